// The batching writer: one thread, one queue, one durable commit per batch, acknowledgments
// only after the commit (and the checkpoint of its head) are on disk.
#include "ledger/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "core/check.h"
#include "ledger/checkpoint.h"

namespace satload::ledger {
namespace {

std::int64_t realtime_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

LedgerFailure store_failure(const StoreFailure& f) {
    return LedgerFailure{LedgerError::store,
                         std::string(store_error_name(f.code)) + ": " + f.message};
}

template <class T>
std::future<LedgerResult<T>> ready(LedgerFailure failure) {
    std::promise<LedgerResult<T>> p;
    p.set_value(fail(std::move(failure)));
    return p.get_future();
}

// A job's answer through a promise (std::function needs a copyable target, hence shared).
template <class T>
std::pair<std::function<void(LedgerResult<T>)>, std::future<LedgerResult<T>>> answer_by_promise() {
    auto p = std::make_shared<std::promise<LedgerResult<T>>>();
    auto future = p->get_future();
    return {[p](LedgerResult<T> r) { p->set_value(std::move(r)); }, std::move(future)};
}

LedgerFailure invalid_submission(std::string_view what) {
    return {LedgerError::invalid_submission, "a submission holds 1 to " +
                                                 std::to_string(kSubmissionEventsMax) + " " +
                                                 std::string(what)};
}

}  // namespace

std::string_view ledger_error_name(LedgerError e) {
    switch (e) {
        case LedgerError::closed: return "closed";
        case LedgerError::invalid_submission: return "invalid_submission";
        case LedgerError::store: return "store";
        case LedgerError::journal_truncated: return "journal_truncated";
        case LedgerError::checkpoint_mismatch: return "checkpoint_mismatch";
        case LedgerError::checkpoint_missing: return "checkpoint_missing";
        case LedgerError::locked: return "locked";
    }
    return "unknown";
}

Ledger::Ledger(std::unique_ptr<LedgerStore> store, LedgerOptions options, int lock_fd)
    : m_store(std::move(store)), m_options(std::move(options)), m_lock_fd(lock_fd) {}

LedgerResult<std::unique_ptr<Ledger>> Ledger::open(std::unique_ptr<LedgerStore> store,
                                                   LedgerOptions options) {
    SATLOAD_ASSERT(store != nullptr);
    SATLOAD_ASSERT(!options.checkpoint_file.empty());
    SATLOAD_ASSERT(options.batch_events_max >= kSubmissionEventsMax);
    SATLOAD_ASSERT(options.queue_events_max >= options.batch_events_max);
    if (!options.clock_ns) options.clock_ns = realtime_ns;

    // One writer per ledger: two would each believe their in-memory state is the truth.
    std::filesystem::path lock_path = options.checkpoint_file;
    lock_path += ".lock";
    const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
        return fail(LedgerFailure{LedgerError::store,
                                  "open " + lock_path.string() + ": " + std::strerror(errno)});
    }
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd);
        return fail(LedgerFailure{LedgerError::locked,
                                  "the ledger is open in another process (" + lock_path.string() + ")"});
    }
    std::unique_ptr<Ledger> ledger(new Ledger(std::move(store), std::move(options), lock_fd));
    if (auto r = ledger->load_state(); !r) return fail(r.error());

    // The journal must extend the checkpoint: anything else means entries were removed or
    // rewritten, and appending to such a journal would bury the evidence.
    const auto checkpoint = read_checkpoint(ledger->m_options.checkpoint_file);
    if (!checkpoint) return fail(store_failure(checkpoint.error()));
    const JournalHead head = ledger->m_head;
    if (!*checkpoint) {
        if (head.count > 0 && !ledger->m_options.allow_missing_checkpoint) {
            return fail(LedgerFailure{LedgerError::checkpoint_missing,
                                      "the journal has " + std::to_string(head.count) +
                                          " entries but " + ledger->m_options.checkpoint_file.string() +
                                          " is missing"});
        }
    } else {
        const JournalHead& cp = **checkpoint;
        if (cp.count > head.count) {
            return fail(LedgerFailure{LedgerError::journal_truncated,
                                      "the checkpoint records " + std::to_string(cp.count) +
                                          " journal entries, the database holds " +
                                          std::to_string(head.count)});
        }
        if (cp.count > 0) {
            const auto entry = ledger->m_store->entry_at(cp.count);
            if (!entry) return fail(store_failure(entry.error()));
            if (!*entry || (*entry)->hash != cp.hash) {
                return fail(LedgerFailure{LedgerError::checkpoint_mismatch,
                                          "journal entry " + std::to_string(cp.count) +
                                              " does not have the checkpointed hash"});
            }
        }
    }
    if (auto w = write_checkpoint(ledger->m_options.checkpoint_file, head); !w) {
        return fail(store_failure(w.error()));
    }
    ledger->m_checkpoint_written_count = head.count;
    ledger->m_writer = std::thread([raw = ledger.get()] { raw->writer_loop(); });
    ledger->m_checkpointer = std::thread([raw = ledger.get()] { raw->checkpoint_loop(); });
    return ledger;
}

Ledger::~Ledger() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_work_cv.notify_all();
    m_space_cv.notify_all();
    if (m_writer.joinable()) m_writer.join();
    // The writer is done: the checkpointer writes the last head, then stops.
    {
        std::lock_guard lock(m_checkpoint_mutex);
        m_checkpoint_stopping = true;
    }
    m_checkpoint_cv.notify_all();
    if (m_checkpointer.joinable()) m_checkpointer.join();
    if (m_lock_fd >= 0) ::close(m_lock_fd);
}

LedgerResult<void> Ledger::load_state() {
    auto loaded = m_store->load();
    if (!loaded) return fail(store_failure(loaded.error()));
    auto machine = std::make_unique<StateMachine>();
    for (const Account& a : loaded->accounts) machine->load_account(a);
    for (const Transfer& t : loaded->open_pendings) machine->load_open_pending(t);
    machine->load_last_timestamp(loaded->last_timestamp_ns);
    machine->load_max_transfer_id(loaded->max_transfer_id);
    m_machine = std::move(machine);
    m_head = loaded->head;
    std::unique_lock lock(m_read_mutex);
    m_committed.clear();
    for (Account& a : loaded->accounts) m_committed.emplace(a.id, std::move(a));
    m_committed_head = m_head;
    return {};
}

// --- Submitting.

void Ledger::enqueue(Job job, std::size_t events) {
    std::unique_lock lock(m_mutex);
    m_space_cv.wait(lock, [&] {
        return m_stopping || m_queued_events + events <= m_options.queue_events_max;
    });
    if (m_stopping) {
        lock.unlock();
        const LedgerFailure closed{LedgerError::closed, "the ledger is closing"};
        std::visit(
            [&](auto& j) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(j)>, TaskJob>) {
                    j.done(fail(closed));
                }
            },
            job);
        return;
    }
    m_queued_events += events;
    m_queue.push_back(std::move(job));
    // The writer waits for the first job, or (gathering) for enough events; a wake-up for
    // any other job would only cost it a switch.
    const bool wake = m_queue.size() == 1 || m_queued_events >= m_options.gather_events ||
                      m_options.gather_wait.count() == 0;
    lock.unlock();
    if (wake) m_work_cv.notify_one();
}

std::future<LedgerResult<std::vector<TransferOutcome>>> Ledger::submit_transfers(
    std::vector<Transfer> transfers) {
    if (transfers.empty() || transfers.size() > kSubmissionEventsMax) {
        return ready<std::vector<TransferOutcome>>(invalid_submission("transfers"));
    }
    auto [done, future] = answer_by_promise<std::vector<TransferOutcome>>();
    const std::size_t n = transfers.size();
    enqueue(TransferJob{std::move(transfers), std::move(done)}, n);
    return std::move(future);
}

void Ledger::submit_transfers_then(
    std::vector<Transfer> transfers,
    std::function<void(LedgerResult<std::vector<TransferOutcome>>)> then) {
    SATLOAD_ASSERT(then != nullptr);
    if (transfers.empty() || transfers.size() > kSubmissionEventsMax) {
        return then(fail(invalid_submission("transfers")));
    }
    const std::size_t n = transfers.size();
    enqueue(TransferJob{std::move(transfers), std::move(then)}, n);
}

std::future<LedgerResult<std::vector<AccountOutcome>>> Ledger::submit_accounts(
    std::vector<Account> accounts) {
    if (accounts.empty() || accounts.size() > kSubmissionEventsMax) {
        return ready<std::vector<AccountOutcome>>(invalid_submission("accounts"));
    }
    auto [done, future] = answer_by_promise<std::vector<AccountOutcome>>();
    const std::size_t n = accounts.size();
    enqueue(AccountJob{std::move(accounts), std::move(done)}, n);
    return std::move(future);
}

LedgerResult<std::vector<TransferOutcome>> Ledger::create_transfers(std::vector<Transfer> transfers) {
    return submit_transfers(std::move(transfers)).get();
}

LedgerResult<std::vector<AccountOutcome>> Ledger::create_accounts(std::vector<Account> accounts) {
    return submit_accounts(std::move(accounts)).get();
}

// --- Reading.

std::optional<Account> Ledger::lookup_account(Id128 id) const {
    std::shared_lock lock(m_read_mutex);
    const auto it = m_committed.find(id);
    if (it == m_committed.end()) return std::nullopt;
    return it->second;
}

std::vector<Account> Ledger::accounts() const {
    std::shared_lock lock(m_read_mutex);
    std::vector<Account> out;
    out.reserve(m_committed.size());
    for (const auto& [id, a] : m_committed) out.push_back(a);
    return out;
}

JournalHead Ledger::head() const {
    std::shared_lock lock(m_read_mutex);
    return m_committed_head;
}

LedgerStats Ledger::stats() const {
    std::shared_lock lock(m_read_mutex);
    return m_stats;
}

LedgerResult<std::vector<JournalEntry>> Ledger::history(Id128 account_id, std::int64_t before_seq,
                                                        std::size_t limit) {
    auto r = m_store->account_history(account_id, before_seq, limit);
    if (!r) return fail(store_failure(r.error()));
    return std::move(*r);
}

LedgerResult<std::vector<KnownTransfer>> Ledger::lookup_transfers(std::vector<Id128> ids) {
    using Found = LedgerResult<std::vector<KnownTransfer>>;
    if (ids.empty()) return std::vector<KnownTransfer>{};
    auto done = std::make_shared<std::promise<Found>>();
    auto future = done->get_future();
    enqueue(TaskJob{[this, ids = std::move(ids), done] {
                auto found = m_store->find_transfers(ids);
                if (!found) {
                    done->set_value(fail(store_failure(found.error())));
                    return;
                }
                done->set_value(std::move(*found));
            }},
            0);
    try {
        return future.get();
    } catch (const std::future_error&) {  // a closing ledger drops the task unanswered
        return fail(LedgerFailure{LedgerError::closed, "the ledger is closing"});
    }
}

AuditReport Ledger::audit() { return audit_ledger(*m_store, m_options.checkpoint_file); }

LedgerResult<void> Ledger::backup(const std::filesystem::path& dir) {
    auto done = std::make_shared<std::promise<LedgerResult<void>>>();
    auto future = done->get_future();
    enqueue(TaskJob{[this, dir, done] {
                std::error_code ec;
                std::filesystem::create_directories(dir, ec);
                const std::filesystem::path db = dir / "ledger.db";
                if (std::filesystem::exists(db, ec)) {
                    done->set_value(fail(LedgerFailure{LedgerError::store, db.string() + " already exists"}));
                    return;
                }
                if (auto r = m_store->backup_to(db); !r) {
                    done->set_value(fail(store_failure(r.error())));
                    return;
                }
                if (auto r = write_checkpoint(checkpoint_path_for(db), m_head); !r) {
                    done->set_value(fail(store_failure(r.error())));
                    return;
                }
                done->set_value({});
            }},
            0);
    return future.get();
}

void Ledger::wait_for_checkpoint() {
    const std::int64_t target = head().count;
    std::unique_lock lock(m_checkpoint_mutex);
    m_checkpoint_cv.wait(lock, [&] { return m_checkpoint_written_count >= target || m_checkpoint_stopping; });
}

// --- The checkpointer.

void Ledger::checkpoint_loop() {
    std::unique_lock lock(m_checkpoint_mutex);
    for (;;) {
        m_checkpoint_cv.wait(lock, [&] { return m_checkpoint_wanted.has_value() || m_checkpoint_stopping; });
        if (!m_checkpoint_wanted) return;  // stopping, nothing left to write
        const JournalHead head = *m_checkpoint_wanted;
        m_checkpoint_wanted.reset();
        lock.unlock();
        const bool written = write_checkpoint(m_options.checkpoint_file, head).has_value();
        {
            std::unique_lock stats(m_read_mutex);
            ++(written ? m_stats.checkpoints : m_stats.checkpoint_failures);
        }
        const auto next_write = std::chrono::steady_clock::now() + m_options.checkpoint_interval;
        lock.lock();
        // A failed write is retried with the next commit's head (or at close).
        if (written) m_checkpoint_written_count = head.count;
        m_checkpoint_cv.notify_all();
        // Heads committed meanwhile wait (the newest replacing older ones); a close does not.
        m_checkpoint_cv.wait_until(lock, next_write, [&] { return m_checkpoint_stopping; });
    }
}

// --- The writer.

void Ledger::writer_loop() {
    for (;;) {
        std::vector<Job> batch;
        {
            std::unique_lock lock(m_mutex);
            const auto ready = [&] { return m_stopping || !m_queue.empty(); };
            if (m_store->shared_journal()) {
                if (!m_work_cv.wait_for(lock, kSharedJournalRefresh, ready)) {
                    lock.unlock();
                    refresh_shared();
                    continue;
                }
            } else {
                m_work_cv.wait(lock, ready);
            }
            if (m_queue.empty()) return;  // stopping and drained
            // Others are likely on their way (the last batch had company): gather them into
            // this commit, up to gather_wait. enqueue wakes the writer at gather_events.
            if (m_options.gather_wait.count() > 0 && m_last_batch_jobs > 1 &&
                !std::holds_alternative<TaskJob>(m_queue.front()) &&
                m_queued_events < m_options.gather_events) {
                m_work_cv.wait_for(lock, m_options.gather_wait, [&] {
                    return m_stopping || m_queued_events >= m_options.gather_events;
                });
            }
            std::size_t events = 0;
            if (std::holds_alternative<TaskJob>(m_queue.front())) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            } else {
                while (!m_queue.empty() && !std::holds_alternative<TaskJob>(m_queue.front())) {
                    const std::size_t n = std::visit(
                        [](const auto& j) -> std::size_t {
                            if constexpr (std::is_same_v<std::decay_t<decltype(j)>, TaskJob>) {
                                return 0;
                            } else {
                                return j.events.size();
                            }
                        },
                        m_queue.front());
                    if (!batch.empty() && events + n > m_options.batch_events_max) break;
                    events += n;
                    batch.push_back(std::move(m_queue.front()));
                    m_queue.pop_front();
                }
            }
            m_queued_events -= events;
            if (!std::holds_alternative<TaskJob>(batch.front())) m_last_batch_jobs = batch.size();
        }
        m_space_cv.notify_all();
        if (auto* task = std::get_if<TaskJob>(&batch.front())) {
            task->run();
            continue;
        }
        process(batch);
    }
}

void Ledger::fail_all(std::vector<Job>& batch, const LedgerFailure& failure) {
    for (Job& job : batch) {
        std::visit(
            [&](auto& j) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(j)>, TaskJob>) {
                    j.done(fail(failure));
                }
            },
            job);
    }
}

LedgerResult<void> Ledger::catch_up(const std::optional<JournalHead>& stored) {
    if (!stored || *stored == m_head) return {};
    if (stored->count <= m_head.count) {
        // Entries this writer committed are gone or were rewritten: stop rather than append.
        m_broken = LedgerFailure{LedgerError::closed, "the shared journal's head (" + std::to_string(stored->count) +
                                                          " entries) does not extend this writer's (" +
                                                          std::to_string(m_head.count) + ")"};
        return fail(*m_broken);
    }
    return load_state();
}

void Ledger::refresh_shared() {
    if (m_broken) return;
    auto locked = m_store->lock_journal();
    if (!locked) return;  // the next batch tries again and reports the failure
    (void)catch_up(*locked);
    m_store->unlock_journal();
}

void Ledger::process(std::vector<Job>& batch) {
    if (m_broken) return fail_all(batch, *m_broken);
    // A shared journal: hold its lock from before the prefetch until the batch is committed,
    // and start from every entry the other processes appended.
    auto locked = m_store->lock_journal();
    if (!locked) {
        {
            std::unique_lock lock(m_read_mutex);
            ++m_stats.store_failures;
        }
        return fail_all(batch, store_failure(locked.error()));
    }
    struct Unlock {
        LedgerStore& store;
        ~Unlock() { store.unlock_journal(); }
    } const unlock{*m_store};
    if (auto caught = catch_up(*locked); !caught) return fail_all(batch, caught.error());
    StateMachine& sm = *m_machine;
    using Steady = std::chrono::steady_clock;
    const auto elapsed_ns = [](Steady::time_point from) {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - from).count());
    };
    const auto t_start = Steady::now();

    // Prefetch what the batch will look up, in one call to the store.
    std::vector<Id128> ids;
    std::unordered_set<Id128, Id128Hash> seen;
    for (const Job& job : batch) {
        if (const auto* t = std::get_if<TransferJob>(&job)) sm.add_ids_to_prefetch(t->events, ids, seen);
    }
    sm.begin_batch();
    if (!ids.empty()) {
        auto found = m_store->find_transfers(ids);
        if (!found) {
            sm.rollback_batch();
            {
                std::unique_lock lock(m_read_mutex);
                ++m_stats.store_failures;
            }
            return fail_all(batch, store_failure(found.error()));
        }
        std::unordered_set<Id128, Id128Hash> provided;
        for (KnownTransfer& k : *found) {
            const Id128 id = k.transfer.id;
            if (provided.insert(id).second) sm.provide(id, std::move(k));
        }
        for (const Id128& id : ids) {
            if (!provided.contains(id)) sm.provide(id, std::nullopt);
        }
    }

    // Apply every submission in order at one clock reading.
    const auto t_apply = Steady::now();
    const std::uint64_t prefetch_ns = elapsed_ns(t_start);
    const std::int64_t now_ns = m_options.clock_ns();
    std::vector<std::vector<TransferOutcome>> transfer_out(batch.size());
    std::vector<std::vector<AccountOutcome>> account_out(batch.size());
    std::size_t events = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto* t = std::get_if<TransferJob>(&batch[i])) {
            transfer_out[i] = sm.create_transfers(t->events, now_ns);
            events += t->events.size();
        } else if (auto* a = std::get_if<AccountJob>(&batch[i])) {
            account_out[i] = sm.create_accounts(a->events, now_ns);
            events += a->events.size();
        }
    }

    // Make it durable: one transaction for the whole batch.
    std::vector<JournalEntry>& entries = sm.batch_entries_mut();
    JournalHead head = m_head;
    sm.seal_batch(head);
    std::vector<Account> dirty = sm.batch_dirty_accounts();
    const std::size_t entry_count = entries.size();
    const std::uint64_t apply_ns = elapsed_ns(t_apply);
    const auto t_commit = Steady::now();
    if (!entries.empty()) {
        if (auto committed = m_store->commit(entries, dirty); !committed) {
            // The outcome of a failed commit may be unknown (a lost connection); reload the
            // truth from the store, so retries of these ids find out what happened.
            sm.rollback_batch();
            const LedgerFailure failure = store_failure(committed.error());
            if (auto reloaded = load_state(); !reloaded) {
                m_broken = LedgerFailure{LedgerError::closed,
                                         "ledger stopped after a failed commit: " + reloaded.error().message};
            }
            {
                std::unique_lock lock(m_read_mutex);
                ++m_stats.store_failures;
            }
            return fail_all(batch, failure);
        }
        {
            std::lock_guard lock(m_checkpoint_mutex);
            m_checkpoint_wanted = head;
        }
        m_checkpoint_cv.notify_one();
    }
    const std::uint64_t commit_ns = elapsed_ns(t_commit);
    const auto t_publish = Steady::now();
    sm.commit_batch();
    m_head = head;
    {
        std::unique_lock lock(m_read_mutex);
        for (Account& a : dirty) m_committed[a.id] = std::move(a);
        m_committed_head = head;
        ++m_stats.batches;
        m_stats.events += events;
        m_stats.entries += entry_count;
        m_stats.largest_batch_events = std::max<std::uint64_t>(m_stats.largest_batch_events, events);
    }

    // Acknowledge: the commit above is durable (the checkpoint follows on its own thread).
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto* t = std::get_if<TransferJob>(&batch[i])) {
            t->done(std::move(transfer_out[i]));
        } else if (auto* a = std::get_if<AccountJob>(&batch[i])) {
            a->done(std::move(account_out[i]));
        }
    }
    std::unique_lock lock(m_read_mutex);
    m_stats.prefetch_ns += prefetch_ns;
    m_stats.apply_ns += apply_ns;
    m_stats.commit_ns += commit_ns;
    m_stats.publish_ns += elapsed_ns(t_publish);
}

}  // namespace satload::ledger
