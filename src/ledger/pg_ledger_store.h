// PgLedgerStore: the ledger in PostgreSQL (libpqxx), for scale-out deployments. Same tables
// as SQLite under a named schema; a batch is one transaction committed with
// synchronous_commit=on, so it is durable on the server when commit() returns. The journal
// may be shared by several processes, each batch under the schema's advisory lock.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger_store.h"

namespace satload::ledger {

inline constexpr int kPgLedgerSchemaVersion = 1;
// PostgreSQL identifiers are at most 63 bytes.
inline constexpr std::size_t kPgSchemaNameBytesMax = 63;

class PgLedgerStore final : public LedgerStore {
public:
    // `url` is a libpq connection URL or string. Tables live in `schema` (created if needed;
    // [a-z_][a-z0-9_]*). Several processes may open it at once (see shared_journal).
    static StoreResult<std::unique_ptr<PgLedgerStore>> open(const std::string& url,
                                                            const std::string& schema);
    ~PgLedgerStore() override;

    StoreResult<LoadedLedger> load() override;
    StoreResult<std::vector<KnownTransfer>> find_transfers(std::span<const Id128> ids) override;
    StoreResult<void> commit(std::span<const JournalEntry> entries,
                             std::span<const Account> accounts) override;
    // Unsupported: back up PostgreSQL with its own tools (pg_dump, base backups).
    StoreResult<void> backup_to(const std::filesystem::path& file) override;
    StoreResult<void> scan(std::vector<Account>& accounts, const EntryVisitor& visit) override;
    StoreResult<std::optional<JournalEntry>> entry_at(std::int64_t seq) override;
    StoreResult<std::vector<JournalEntry>> account_history(Id128 account_id,
                                                           std::int64_t before_seq,
                                                           std::size_t limit) override;
    [[nodiscard]] std::string describe() const override;
    // Several processes may write this journal (every `serve --db` instance): each batch runs
    // under a session advisory lock named after the schema, and starts from the stored head.
    [[nodiscard]] bool shared_journal() const override { return true; }
    StoreResult<std::optional<JournalHead>> lock_journal() override;
    void unlock_journal() override;

    // Drops the schema and everything in it (tests clean up with this).
    static StoreResult<void> drop_schema(const std::string& url, const std::string& schema);

    struct Impl;

private:
    explicit PgLedgerStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace satload::ledger
