// The ledger's public API: one batching writer thread (group commit) in front of a store.
// Submitters hand in accounts or transfers and block, or hold a future; the writer applies
// everything queued as one batch to the in-memory state machine, commits the batch's journal
// entries and account totals in one durable transaction, and only then answers. The database
// is the durable record; the state machine is the rules. A second thread checkpoints the
// journal head after the commits (the newest head when commits come faster than it syncs, and
// at most once per checkpoint_interval), so the checkpoint trails the journal by at most the
// commits of one interval plus those in flight, and never leads it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/result.h"
#include "ledger/audit.h"
#include "ledger/journal.h"
#include "ledger/ledger_store.h"
#include "ledger/state_machine.h"
#include "ledger/types.h"

namespace satload::ledger {

// Events applied (and committed) together at most; a batch never splits a submission.
inline constexpr std::size_t kBatchEventsMax = 16'384;
// Events waiting in the queue at most; submitters block beyond it (back-pressure).
inline constexpr std::size_t kQueueEventsMax = 262'144;
// The default shortest time between two checkpoint writes (LedgerOptions).
inline constexpr std::chrono::milliseconds kCheckpointInterval{20};
// With a journal shared by several processes, an idle writer looks for the others' entries
// this often, so balances read here lag another process's commits by at most about this.
inline constexpr std::chrono::milliseconds kSharedJournalRefresh{200};

enum class LedgerError {
    closed,               // the ledger is shutting down or failed
    invalid_submission,   // empty, or more than kSubmissionEventsMax events
    store,                // the store failed; nothing of the submission was applied
    journal_truncated,    // the checkpoint records more entries than the journal holds
    checkpoint_mismatch,  // the journal's entry at the checkpoint has another hash
    checkpoint_missing,   // a non-empty journal and no checkpoint file
    locked,               // another process has this ledger open
};
[[nodiscard]] std::string_view ledger_error_name(LedgerError e);

struct LedgerFailure {
    LedgerError code;
    std::string message;
};

template <class T>
using LedgerResult = Result<T, LedgerFailure>;

struct LedgerOptions {
    // The journal head checkpoint (conventionally checkpoint_path_for(db file)); a lock file
    // "<checkpoint>.lock" beside it keeps a second writer out.
    std::filesystem::path checkpoint_file;
    // Injected clock for timestamps and pending timeouts; default CLOCK_REALTIME.
    std::function<std::int64_t()> clock_ns;
    std::size_t batch_events_max = kBatchEventsMax;
    std::size_t queue_events_max = kQueueEventsMax;
    // Recovery only: open a non-empty journal whose checkpoint file is gone.
    bool allow_missing_checkpoint = false;
    // The shortest time between two checkpoint writes. Each write is two syncs (the file and
    // its directory) competing with the commits' own for the disk; under a steady load of
    // payments, writing after every commit spent a third of the disk's flushes on checkpoints.
    std::chrono::milliseconds checkpoint_interval = kCheckpointInterval;
    // Group commit under load: when the batch before held more than one submission (others
    // are likely on their way), the writer waits up to this long for gather_events events
    // before it applies and commits the next one. Every commit is a sync, which costs CPU
    // too: under a steady load of payments, waiting 2 ms halved the syncs and raised the
    // rate. 0: never wait. A submission after a lone one (or a task) is never held back.
    std::chrono::microseconds gather_wait{0};
    std::size_t gather_events = 64;
};

struct LedgerStats {
    std::uint64_t batches = 0;           // durable commits
    std::uint64_t events = 0;            // events answered
    std::uint64_t entries = 0;           // journal entries committed
    std::uint64_t largest_batch_events = 0;
    std::uint64_t store_failures = 0;
    std::uint64_t checkpoint_failures = 0;  // checkpoint writes that failed
    std::uint64_t checkpoints = 0;          // checkpoint writes that succeeded
    // Where the writer's time goes (steady clock, summed over batches).
    std::uint64_t prefetch_ns = 0;   // looking up the batch's ids in the store
    std::uint64_t apply_ns = 0;      // the state machine, sealing the entries
    std::uint64_t commit_ns = 0;     // the store's durable commit
    std::uint64_t publish_ns = 0;    // updating readers' state and answering submitters
};

class Ledger {
public:
    // Loads the store's state, verifies the journal against the checkpoint, and starts the
    // writer. Refuses a journal that is behind or different from its checkpoint.
    static LedgerResult<std::unique_ptr<Ledger>> open(std::unique_ptr<LedgerStore> store,
                                                      LedgerOptions options);
    // Answers everything queued, then stops the writer.
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // One result per event, in order, once the batch holding them is durable.
    [[nodiscard]] std::future<LedgerResult<std::vector<TransferOutcome>>> submit_transfers(
        std::vector<Transfer> transfers);
    [[nodiscard]] std::future<LedgerResult<std::vector<AccountOutcome>>> submit_accounts(
        std::vector<Account> accounts);
    // As submit_transfers, but `then` is called with the outcome instead: in the writer's
    // thread once the batch holding them is durable, or in the caller's before it returns
    // when the submission is refused outright (invalid, or the ledger is closing). `then`
    // must be quick and must not call the ledger: it holds up the next batch.
    void submit_transfers_then(
        std::vector<Transfer> transfers,
        std::function<void(LedgerResult<std::vector<TransferOutcome>>)> then);
    // Blocking forms of the above.
    [[nodiscard]] LedgerResult<std::vector<TransferOutcome>> create_transfers(
        std::vector<Transfer> transfers);
    [[nodiscard]] LedgerResult<std::vector<AccountOutcome>> create_accounts(
        std::vector<Account> accounts);

    // Committed (durable) state only: never a balance that could still be rolled back.
    [[nodiscard]] std::optional<Account> lookup_account(Id128 id) const;
    [[nodiscard]] std::vector<Account> accounts() const;
    [[nodiscard]] JournalHead head() const;
    [[nodiscard]] LedgerStats stats() const;

    // The stored records of these transfer ids (applied, with a pending transfer's status, or
    // failed); ids the ledger never saw are left out. Committed state only: it runs in the
    // writer between batches (the store's lookups are the writer's), so it waits for the
    // batch in progress. For recovery paths, not for every request.
    [[nodiscard]] LedgerResult<std::vector<KnownTransfer>> lookup_transfers(std::vector<Id128> ids);
    // Journal entries touching an account, newest first (see LedgerStore::account_history).
    [[nodiscard]] LedgerResult<std::vector<JournalEntry>> history(Id128 account_id,
                                                                  std::int64_t before_seq,
                                                                  std::size_t limit);
    // The full audit (audit.h) against this ledger's store and checkpoint.
    [[nodiscard]] AuditReport audit();
    // A consistent copy in `dir`: ledger.db and its checkpoint ledger.db.head, taken between
    // batches so they match. Restore = copy both into the data directory.
    [[nodiscard]] LedgerResult<void> backup(const std::filesystem::path& dir);
    // Blocks until the checkpoint file holds the head of every commit answered so far.
    void wait_for_checkpoint();

private:
    // `done` answers the submitter (a promise's setter or a submit_transfers_then callback).
    struct TransferJob {
        std::vector<Transfer> events;
        std::function<void(LedgerResult<std::vector<TransferOutcome>>)> done;
    };
    struct AccountJob {
        std::vector<Account> events;
        std::function<void(LedgerResult<std::vector<AccountOutcome>>)> done;
    };
    struct TaskJob {
        std::function<void()> run;  // runs in the writer thread between batches
    };
    using Job = std::variant<TransferJob, AccountJob, TaskJob>;

    Ledger(std::unique_ptr<LedgerStore> store, LedgerOptions options, int lock_fd);
    LedgerResult<void> load_state();
    // A shared journal: reloads when `stored` (the head in the store, under the journal's
    // lock) is not the head this writer last saw.
    LedgerResult<void> catch_up(const std::optional<JournalHead>& stored);
    // An idle writer on a shared journal takes in the other processes' entries.
    void refresh_shared();
    void enqueue(Job job, std::size_t events);
    void writer_loop();
    void process(std::vector<Job>& batch);
    void fail_all(std::vector<Job>& batch, const LedgerFailure& failure);
    void checkpoint_loop();

    std::unique_ptr<LedgerStore> m_store;
    LedgerOptions m_options;
    int m_lock_fd = -1;

    // Writer-thread state.
    std::unique_ptr<StateMachine> m_machine;
    JournalHead m_head;
    std::optional<LedgerFailure> m_broken;  // set when the state could not be reloaded

    // The queue.
    mutable std::mutex m_mutex;
    std::condition_variable m_work_cv;
    std::condition_variable m_space_cv;
    std::deque<Job> m_queue;
    std::size_t m_queued_events = 0;
    bool m_stopping = false;
    // Submissions in the last batch (the writer's; for gather_wait).
    std::size_t m_last_batch_jobs = 0;

    // Committed state for readers.
    mutable std::shared_mutex m_read_mutex;
    std::unordered_map<Id128, Account, Id128Hash> m_committed;
    JournalHead m_committed_head;
    LedgerStats m_stats;

    // The checkpointer: the newest committed head waiting to be written, and the last written.
    std::mutex m_checkpoint_mutex;
    std::condition_variable m_checkpoint_cv;
    std::optional<JournalHead> m_checkpoint_wanted;
    std::int64_t m_checkpoint_written_count = 0;
    bool m_checkpoint_stopping = false;

    std::thread m_writer;
    std::thread m_checkpointer;
};

}  // namespace satload::ledger
