// The ledger's durable record behind one interface: SqliteLedgerStore (embedded default) and
// PgLedgerStore (scale-out). The store keeps the journal and the accounts' current totals; it
// applies no rules of its own (the state machine does), it only persists and answers lookups.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "ledger/journal.h"
#include "ledger/state_machine.h"
#include "ledger/types.h"

namespace satload::ledger {

enum class StoreError {
    io,           // the database or file system refused (see message)
    corrupt,      // a row does not decode (wrong length, unknown kind)
    unsupported,  // this backend cannot do that (e.g. file backup of PostgreSQL)
    locked,       // another writer holds the ledger
};
[[nodiscard]] std::string_view store_error_name(StoreError e);

struct StoreFailure {
    StoreError code;
    std::string message;  // for logs and the CLI; contains no secrets
};

template <class T>
using StoreResult = Result<T, StoreFailure>;

// What the writer keeps in memory, loaded once at startup.
struct LoadedLedger {
    std::vector<Account> accounts;
    std::vector<Transfer> open_pendings;  // applied pending transfers not yet resolved
    JournalHead head;
    std::int64_t last_timestamp_ns = 0;
    Id128 max_transfer_id;  // largest id of a transfer or failure entry (zero: none)
};

// Called for each entry of a scan, in seq order; return false to stop early.
using EntryVisitor = std::function<bool(const JournalEntry&)>;

class LedgerStore {
public:
    virtual ~LedgerStore() = default;

    // --- Used by the writer thread only.
    virtual StoreResult<LoadedLedger> load() = 0;
    // The records of these transfer ids (applied or failed); ids with no record are left out.
    // An applied pending transfer comes with its status (posted, voided, expired or pending).
    virtual StoreResult<std::vector<KnownTransfer>> find_transfers(std::span<const Id128> ids) = 0;
    // Appends sealed entries (contiguous seqs after the current head) and stores the new
    // totals of changed accounts, in one transaction that is durable when this returns.
    virtual StoreResult<void> commit(std::span<const JournalEntry> entries,
                                     std::span<const Account> accounts) = 0;
    // A consistent copy of the database into `file` (SQLite: one file). Called by the writer
    // between batches, so the copy matches the checkpoint written beside it.
    virtual StoreResult<void> backup_to(const std::filesystem::path& file) = 0;

    // A journal that several processes append to (PostgreSQL behind several `satload serve`):
    // the writer holds the journal's lock around each batch. lock_journal() waits for it and
    // returns the head as stored, so a writer that finds another process's entries reloads its
    // state before it applies a batch; unlock_journal() lets the next process write. A store
    // with one writer (SQLite, where the checkpoint's file lock keeps others out) has no lock:
    // nullopt, and the writer's own head is the truth.
    [[nodiscard]] virtual bool shared_journal() const { return false; }
    virtual StoreResult<std::optional<JournalHead>> lock_journal() { return std::optional<JournalHead>{}; }
    virtual void unlock_journal() {}

    // --- Reads, from any thread; each call sees one consistent snapshot.
    // All accounts, then every journal entry in seq order, from one snapshot (for the audit).
    virtual StoreResult<void> scan(std::vector<Account>& accounts, const EntryVisitor& visit) = 0;
    virtual StoreResult<std::optional<JournalEntry>> entry_at(std::int64_t seq) = 0;
    // Entries that move money in or out of the account (and its creation), newest first,
    // with seq < before_seq (0 = from the newest), at most `limit`.
    virtual StoreResult<std::vector<JournalEntry>> account_history(Id128 account_id,
                                                                   std::int64_t before_seq,
                                                                   std::size_t limit) = 0;
    // Human-readable backend description for reports ("sqlite:/path", "postgresql").
    [[nodiscard]] virtual std::string describe() const = 0;
};

// Longest page a history call returns.
inline constexpr std::size_t kHistoryLimitMax = 1'000;

}  // namespace satload::ledger
