// SqliteLedgerStore: the ledger in one SQLite file (WAL, synchronous=FULL, so a commit is on
// disk when it returns). One connection for the writer thread, one for readers.
#pragma once

#include <filesystem>
#include <memory>

#include "ledger/ledger_store.h"

namespace satload::ledger {

inline constexpr int kSqliteLedgerSchemaVersion = 1;

class SqliteLedgerStore final : public LedgerStore {
public:
    // Creates the file and schema if needed. Tables are prefixed `ledger_`, so the file may
    // be shared with other stores.
    static StoreResult<std::unique_ptr<SqliteLedgerStore>> open(const std::filesystem::path& file);
    ~SqliteLedgerStore() override;

    StoreResult<LoadedLedger> load() override;
    StoreResult<std::vector<KnownTransfer>> find_transfers(std::span<const Id128> ids) override;
    StoreResult<void> commit(std::span<const JournalEntry> entries,
                             std::span<const Account> accounts) override;
    StoreResult<void> backup_to(const std::filesystem::path& file) override;
    StoreResult<void> scan(std::vector<Account>& accounts, const EntryVisitor& visit) override;
    StoreResult<std::optional<JournalEntry>> entry_at(std::int64_t seq) override;
    StoreResult<std::vector<JournalEntry>> account_history(Id128 account_id,
                                                           std::int64_t before_seq,
                                                           std::size_t limit) override;
    [[nodiscard]] std::string describe() const override;

    struct Impl;

private:
    explicit SqliteLedgerStore(std::unique_ptr<Impl> impl);
    StoreResult<void> find_transfers_in_transaction(std::span<const Id128> ids,
                                                    std::vector<KnownTransfer>& out);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace satload::ledger
