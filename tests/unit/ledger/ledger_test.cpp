// Pins down the ledger through its public API on both backends (the same suite runs against
// SQLite and PostgreSQL): persistence across restarts, idempotency and atomicity through the
// store, two-phase transfers across restarts, audit of a healthy ledger, truncation and
// tampering caught by the audit, backup and restore, history, the single-writer lock, and a
// failed commit leaving no trace.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "backends.h"
#include "ledger/ledger.h"
#include "ledger/split.h"

namespace satload::ledger {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace ledger_test {

using testing::Backend;
using testing::Place;
using R = TransferResult;
namespace tf = transfer_flags;

constexpr std::int64_t kSecondNs = 1'000'000'000;

Id128 id(std::uint64_t n) { return Id128{0xabc, n}; }

Account wallet(std::uint64_t n) {
    Account a;
    a.id = id(n);
    a.kind = AccountKind::user_wallet;
    a.flags = account_flags::debits_must_not_exceed_credits;
    a.owner = "user" + std::to_string(n);
    return a;
}

Account system_account(std::uint64_t n, AccountKind kind) {
    Account a;
    a.id = id(n);
    a.kind = kind;
    return a;
}

Transfer xfer(std::uint64_t n, std::uint64_t debit, std::uint64_t credit, std::int64_t amount,
              std::uint16_t flags = 0) {
    Transfer t;
    t.id = Id128{0xdef, n};
    t.debit_account_id = id(debit);
    t.credit_account_id = id(credit);
    t.amount_msat = amount;
    t.code = transfer_code::adjustment;
    t.flags = flags;
    return t;
}

constexpr std::uint64_t kAssets = 100;
constexpr std::uint64_t kRevenue = 101;

class LedgerTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        SATLOAD_REQUIRE_BACKEND(GetParam());
        place = std::make_unique<Place>(GetParam());
        reopen();
        ASSERT_TRUE(ledger);
        const auto out = ledger->create_accounts({wallet(1), wallet(2), wallet(3),
                                                  system_account(kAssets, AccountKind::onchain_assets),
                                                  system_account(kRevenue, AccountKind::platform_revenue)});
        ASSERT_TRUE(out);
        for (const auto& o : *out) ASSERT_EQ(o.result, CreateAccountResult::ok);
    }

    void reopen() {
        ledger.reset();
        LedgerOptions options;
        options.clock_ns = [this] { return now_ns.load(); };
        auto l = place->open_ledger(std::move(options));
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
    }

    std::vector<R> submit(std::vector<Transfer> transfers) {
        auto out = ledger->create_transfers(std::move(transfers));
        EXPECT_TRUE(out) << (out ? "" : out.error().message);
        std::vector<R> results;
        if (out) {
            for (const auto& o : *out) results.push_back(o.result);
        }
        return results;
    }
    R one(const Transfer& t) {
        const auto r = submit({t});
        return r.empty() ? R::ok : r[0];
    }

    std::int64_t balance(std::uint64_t n) const { return ledger->lookup_account(id(n))->balance_msat(); }

    std::unique_ptr<Place> place;
    std::unique_ptr<Ledger> ledger;
    std::atomic<std::int64_t> now_ns{1'700'000'000 * kSecondNs};
};

// Balances survive a restart: the store is the durable record, reloaded at open.
TEST_P(LedgerTest, StatePersistsAcrossRestart) {
    EXPECT_EQ(one(xfer(1, kAssets, 1, 10'000)), R::ok);
    EXPECT_EQ(one(xfer(2, 1, 2, 2'500)), R::ok);
    reopen();
    EXPECT_EQ(balance(1), 7'500);
    EXPECT_EQ(balance(2), 2'500);
    EXPECT_EQ(balance(kAssets), -10'000);
    EXPECT_EQ(ledger->head().count, 5 + 2);
    EXPECT_EQ(one(xfer(3, 2, 3, 500)), R::ok);
    EXPECT_EQ(balance(3), 500);
}

// The same id twice applies once (exists), with a different amount it is refused and changes
// nothing, also when the first was committed in an earlier batch or before a restart (the
// lookup then goes through the store).
TEST_P(LedgerTest, IdempotencyThroughTheStore) {
    ASSERT_EQ(one(xfer(10, kAssets, 1, 1'000)), R::ok);
    EXPECT_EQ(one(xfer(10, kAssets, 1, 1'000)), R::exists);
    EXPECT_EQ(one(xfer(10, kAssets, 1, 1'001)), R::exists_with_different_amount);
    reopen();
    EXPECT_EQ(one(xfer(10, kAssets, 1, 1'000)), R::exists);
    EXPECT_EQ(one(xfer(10, kAssets, 2, 1'000)), R::exists_with_different_credit_account_id);
    EXPECT_EQ(balance(1), 1'000);
    EXPECT_EQ(balance(2), 0);
    // A recorded failure answers the same after a restart, even once funds are there.
    EXPECT_EQ(one(xfer(11, 2, 3, 5)), R::exceeds_credits);
    ASSERT_EQ(one(xfer(12, kAssets, 2, 100)), R::ok);
    reopen();
    EXPECT_EQ(one(xfer(11, 2, 3, 5)), R::exceeds_credits);
    EXPECT_EQ(balance(3), 0);
    EXPECT_TRUE(ledger->audit().passed()) << ledger->audit().text();
}

// A linked group where one leg fails changes no balance at all, and the audit still passes.
TEST_P(LedgerTest, LinkedGroupAtomicThroughTheStore) {
    ASSERT_EQ(one(xfer(20, kAssets, 1, 1'000)), R::ok);
    const auto before = ledger->accounts();
    const auto results = submit({xfer(21, 1, 2, 500, tf::linked), xfer(22, 1, 3, 400, tf::linked),
                                 xfer(23, 1, kRevenue, 101)});
    EXPECT_EQ(results, (std::vector{R::linked_event_failed, R::linked_event_failed, R::exceeds_credits}));
    auto same_balances = [&] {
        for (const Account& a : before) {
            const Account now = *ledger->lookup_account(a.id);
            EXPECT_EQ(now.debits_posted_msat, a.debits_posted_msat);
            EXPECT_EQ(now.credits_posted_msat, a.credits_posted_msat);
            EXPECT_EQ(now.debits_pending_msat, a.debits_pending_msat);
            EXPECT_EQ(now.credits_pending_msat, a.credits_pending_msat);
        }
    };
    same_balances();
    reopen();
    same_balances();
    // The failed legs are in the payer's history (as recorded failures), newest first.
    const auto history = ledger->history(id(1), 0, 10);
    ASSERT_TRUE(history);
    ASSERT_EQ(history->size(), 5U);  // 3 failures, the funding transfer, the creation
    EXPECT_EQ((*history)[0].kind, EntryKind::failure);
    EXPECT_EQ((*history)[3].kind, EntryKind::transfer);
    EXPECT_EQ((*history)[4].kind, EntryKind::account);
    EXPECT_TRUE(ledger->audit().passed()) << ledger->audit().text();
}

// A download payment (split helper) is one atomic group; retried, it is not charged twice.
TEST_P(LedgerTest, DownloadPaymentSplit) {
    ASSERT_EQ(one(xfer(30, kAssets, 1, 1'000)), R::ok);
    DownloadPayment p;
    p.payment_id = Id128{1, 30};
    p.payer_account_id = id(1);
    p.uploader_account_id = id(2);
    p.referrer_account_id = id(3);
    p.platform_account_id = id(kRevenue);
    p.price_msat = 999;
    const auto legs = download_payment_transfers(p, SplitShares{});
    ASSERT_TRUE(legs);
    EXPECT_EQ(submit(*legs), (std::vector{R::ok, R::ok, R::ok}));
    EXPECT_EQ(submit(*legs), (std::vector{R::exists, R::exists, R::exists}));
    EXPECT_EQ(balance(1), 1);
    EXPECT_EQ(balance(2), 801);
    EXPECT_EQ(balance(3), 99);
    EXPECT_EQ(balance(kRevenue), 99);
    p.payment_id = Id128{1, 31};
    EXPECT_EQ(submit(*download_payment_transfers(p, SplitShares{})),
              (std::vector{R::exceeds_credits, R::linked_event_failed, R::linked_event_failed}));
    EXPECT_EQ(balance(1), 1);
}

// Two-phase transfers survive restarts: open reservations are reloaded, resolutions are found
// in the store, and a timeout expires a reservation after a restart too.
TEST_P(LedgerTest, TwoPhaseAcrossRestarts) {
    ASSERT_EQ(one(xfer(40, kAssets, 1, 1'000)), R::ok);
    ASSERT_EQ(one(xfer(41, 1, kRevenue, 600, tf::pending)), R::ok);
    Transfer timed = xfer(42, 1, kRevenue, 300, tf::pending);
    timed.timeout_s = 60;
    ASSERT_EQ(one(timed), R::ok);
    reopen();
    EXPECT_EQ(ledger->lookup_account(id(1))->debits_pending_msat, 900);
    EXPECT_EQ(one(xfer(43, 1, 2, 101)), R::exceeds_credits);
    Transfer post = xfer(44, 1, kRevenue, 600, tf::post_pending);
    post.pending_id = xfer(41, 0, 0, 0).id;
    EXPECT_EQ(one(post), R::ok);
    reopen();
    Transfer again = post;
    again.id = xfer(45, 0, 0, 0).id;
    EXPECT_EQ(one(again), R::pending_transfer_already_posted);
    now_ns += 61 * kSecondNs;
    reopen();
    Transfer late = xfer(46, 1, kRevenue, 300, tf::post_pending);
    late.pending_id = timed.id;
    EXPECT_EQ(one(late), R::pending_transfer_expired);
    reopen();
    late.id = xfer(47, 0, 0, 0).id;
    EXPECT_EQ(one(late), R::pending_transfer_expired);
    EXPECT_EQ(ledger->lookup_account(id(1))->debits_pending_msat, 0);
    EXPECT_EQ(balance(1), 400);
    EXPECT_EQ(balance(kRevenue), 600);
    const auto report = ledger->audit();
    EXPECT_TRUE(report.passed()) << report.text();
}

// A healthy ledger passes every check, and the report names each check.
TEST_P(LedgerTest, AuditPassesAndListsChecks) {
    ASSERT_EQ(one(xfer(50, kAssets, 1, 1'000)), R::ok);
    ASSERT_EQ(one(xfer(51, 1, 2, 10, tf::pending)), R::ok);
    const auto report = ledger->audit();
    EXPECT_TRUE(report.passed()) << report.text();
    for (const char* name : {"journal_chain", "checkpoint", "ids_applied_once", "entries_consistent",
                             "account_totals_match_journal", "balances_sum_to_zero",
                             "no_wallet_below_zero"}) {
        const AuditCheck* c = report.find(name);
        ASSERT_NE(c, nullptr) << name;
        EXPECT_TRUE(c->passed) << name << ": " << c->detail;
    }
    EXPECT_EQ(report.entries, 7);
    EXPECT_EQ(report.accounts, 5U);
}

// Deleting the newest journal entries is caught: the audit fails against the checkpoint, and
// the ledger refuses to open (appending would bury the evidence).
TEST_P(LedgerTest, TruncationIsCaught) {
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(one(xfer(60 + i, kAssets, 1, 100)), R::ok);
    const std::int64_t count = ledger->head().count;
    ledger.reset();
    place->exec_sql("DELETE FROM ledger_journal WHERE seq > " + std::to_string(count - 2));
    auto store = place->open_store();
    const auto report = audit_ledger(*store, place->checkpoint());
    EXPECT_FALSE(report.passed());
    const AuditCheck* cp = report.find("checkpoint");
    ASSERT_NE(cp, nullptr);
    EXPECT_FALSE(cp->passed);
    EXPECT_NE(cp->detail.find("truncation"), std::string::npos) << cp->detail;
    EXPECT_TRUE(report.find("journal_chain")->passed);  // what is left still chains
    store.reset();
    auto reopened = place->open_ledger();
    ASSERT_FALSE(reopened);
    EXPECT_EQ(reopened.error().code, LedgerError::journal_truncated);
}

// Editing one journal row in the database makes the audit fail and name that entry.
TEST_P(LedgerTest, TamperingIsCaughtAndNamed) {
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(one(xfer(70 + i, kAssets, 1, 100)), R::ok);
    const std::int64_t victim = ledger->head().count - 2;
    ledger.reset();
    place->exec_sql("UPDATE ledger_journal SET amount = 1000000 WHERE seq = " + std::to_string(victim));
    auto store = place->open_store();
    const auto report = audit_ledger(*store, place->checkpoint());
    EXPECT_FALSE(report.passed());
    ASSERT_TRUE(report.first_bad_seq.has_value());
    EXPECT_EQ(*report.first_bad_seq, victim);
    const AuditCheck* chain = report.find("journal_chain");
    ASSERT_NE(chain, nullptr);
    EXPECT_FALSE(chain->passed);
    EXPECT_NE(chain->detail.find("first bad entry is " + std::to_string(victim)), std::string::npos)
        << chain->detail;
    // The account totals no longer match the (edited) journal either.
    EXPECT_FALSE(report.find("account_totals_match_journal")->passed);
}

// A broken history link (an entry pointing past the account's previous entry) is caught.
TEST_P(LedgerTest, BrokenHistoryLinkIsCaught) {
    ASSERT_EQ(one(xfer(85, kAssets, 1, 100)), R::ok);
    ASSERT_EQ(one(xfer(86, kAssets, 1, 100)), R::ok);
    const std::int64_t last = ledger->head().count;
    ledger.reset();
    place->exec_sql("UPDATE ledger_journal SET credit_prev = 0 WHERE seq = " + std::to_string(last));
    auto store = place->open_store();
    const auto report = audit_ledger(*store, place->checkpoint());
    EXPECT_FALSE(report.find("entries_consistent")->passed);
    EXPECT_EQ(*report.first_bad_seq, last);  // the link is covered by the entry's hash too
}

// Changing a stored balance (not the journal) is caught by the replay of the journal.
TEST_P(LedgerTest, EditedBalanceIsCaught) {
    ASSERT_EQ(one(xfer(80, kAssets, 1, 100)), R::ok);
    ledger.reset();
    place->exec_sql("UPDATE ledger_accounts SET credits_posted = credits_posted + 5");
    auto store = place->open_store();
    const auto report = audit_ledger(*store, place->checkpoint());
    EXPECT_FALSE(report.find("account_totals_match_journal")->passed);
    EXPECT_FALSE(report.find("balances_sum_to_zero")->passed);
    EXPECT_TRUE(report.find("journal_chain")->passed);
}

// History lists an account's transfers newest first, with paging.
TEST_P(LedgerTest, HistoryNewestFirst) {
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(one(xfer(90 + i, kAssets, 1, 10 + i)), R::ok);
    ASSERT_EQ(one(xfer(95, 1, 2, 1)), R::ok);
    ASSERT_EQ(one(xfer(96, kAssets, 3, 1)), R::ok);
    const auto page = ledger->history(id(1), 0, 4);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 4U);
    EXPECT_EQ((*page)[0].id, xfer(95, 0, 0, 0).id);
    EXPECT_EQ((*page)[1].amount_msat, 14);
    const auto next = ledger->history(id(1), page->back().seq, 10);
    ASSERT_TRUE(next);
    ASSERT_EQ(next->size(), 3U);  // two transfers and the account's creation
    EXPECT_EQ((*next)[1].amount_msat, 10);
    EXPECT_EQ((*next)[2].kind, EntryKind::account);
    EXPECT_TRUE(ledger->history(id(1), (*next)[2].seq, 10)->empty());
    EXPECT_TRUE(ledger->history(id(99), 0, 10)->empty());  // no such account
}

// A second writer on the same ledger is refused.
TEST_P(LedgerTest, SecondWriterIsLockedOut) {
    auto second = place->open_ledger();
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, LedgerError::locked);
}

// Many threads submitting at once share commits (group commit) and all get their answer.
TEST_P(LedgerTest, ConcurrentSubmittersShareCommits) {
    ASSERT_EQ(one(xfer(200, kAssets, 1, 1'000'000)), R::ok);
    const auto batches_before = ledger->stats().batches;
    constexpr int kThreads = 16;
    constexpr int kEach = 50;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const auto r = ledger->create_transfers({xfer(1'000 + t * kEach + i, 1, 2, 1)});
                if (r && (*r)[0].result == R::ok) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kThreads * kEach);
    EXPECT_EQ(balance(2), kThreads * kEach);
    EXPECT_LT(ledger->stats().batches - batches_before, static_cast<std::uint64_t>(kThreads * kEach));
    EXPECT_TRUE(ledger->audit().passed());
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::param_name);

// --- SQLite only: backup and restore, and a failing store.

// A backup restored into a fresh data directory passes the audit and has the same balances.
TEST(LedgerBackup, RestoredBackupPassesAudit) {
    Place place(Backend::sqlite);
    Place restored(Backend::sqlite);
    std::vector<Account> before;
    {
        auto ledger = place.open_ledger();
        ASSERT_TRUE(ledger);
        ASSERT_TRUE((*ledger)->create_accounts({wallet(1), system_account(kAssets, AccountKind::onchain_assets)}));
        for (std::uint64_t i = 0; i < 20; ++i) {
            ASSERT_EQ((*(*ledger)->create_transfers({xfer(i + 1, kAssets, 1, 7)}))[0].result, R::ok);
        }
        const auto backup_dir = place.dir() / "backup";
        ASSERT_TRUE((*ledger)->backup(backup_dir));
        before = (*ledger)->accounts();
        // Later activity does not leak into the backup.
        ASSERT_EQ((*(*ledger)->create_transfers({xfer(99, kAssets, 1, 1)}))[0].result, R::ok);
        std::filesystem::copy_file(backup_dir / "ledger.db", restored.db_file());
        std::filesystem::copy_file(checkpoint_path_for(backup_dir / "ledger.db"), restored.checkpoint());
        EXPECT_FALSE((*ledger)->backup(backup_dir));  // never overwrites a backup
    }
    auto ledger = restored.open_ledger();
    ASSERT_TRUE(ledger) << ledger.error().message;
    const auto report = (*ledger)->audit();
    EXPECT_TRUE(report.passed()) << report.text();
    EXPECT_EQ((*ledger)->lookup_account(id(1))->balance_msat(), 140);
    EXPECT_EQ((*ledger)->accounts().size(), before.size());
}

// A store whose commit fails on demand, or waits at a closed gate, wrapping a real one.
class FlakyStore final : public LedgerStore {
public:
    explicit FlakyStore(std::unique_ptr<LedgerStore> inner) : m_inner(std::move(inner)) {}
    std::atomic<bool> fail_commits{false};
    void close_gate() {
        const std::lock_guard lock(m_gate_mutex);
        m_gate_closed = true;
    }
    void open_gate() {
        {
            const std::lock_guard lock(m_gate_mutex);
            m_gate_closed = false;
        }
        m_gate_cv.notify_all();
    }
    // Until `n` commits have reached the store.
    void wait_for_commits(int n) {
        std::unique_lock lock(m_gate_mutex);
        m_gate_cv.wait(lock, [&] { return m_commits >= n; });
    }
    StoreResult<LoadedLedger> load() override { return m_inner->load(); }
    StoreResult<std::vector<KnownTransfer>> find_transfers(std::span<const Id128> ids) override {
        return m_inner->find_transfers(ids);
    }
    StoreResult<void> commit(std::span<const JournalEntry> e, std::span<const Account> a) override {
        {
            std::unique_lock lock(m_gate_mutex);
            ++m_commits;
            m_gate_cv.notify_all();
            m_gate_cv.wait(lock, [&] { return !m_gate_closed; });
        }
        if (fail_commits) return fail(StoreFailure{StoreError::io, "injected"});
        return m_inner->commit(e, a);
    }
    StoreResult<void> backup_to(const std::filesystem::path& f) override { return m_inner->backup_to(f); }
    StoreResult<void> scan(std::vector<Account>& a, const EntryVisitor& v) override {
        return m_inner->scan(a, v);
    }
    StoreResult<std::optional<JournalEntry>> entry_at(std::int64_t s) override {
        return m_inner->entry_at(s);
    }
    StoreResult<std::vector<JournalEntry>> account_history(Id128 a, std::int64_t b, std::size_t l) override {
        return m_inner->account_history(a, b, l);
    }
    std::string describe() const override { return "flaky " + m_inner->describe(); }

private:
    std::unique_ptr<LedgerStore> m_inner;
    std::mutex m_gate_mutex;
    std::condition_variable m_gate_cv;
    bool m_gate_closed = false;
    int m_commits = 0;
};

struct GatedLedger {
    std::unique_ptr<Ledger> ledger;
    FlakyStore* store = nullptr;
};

GatedLedger open_gated(Place& place, LedgerOptions options = {}) {
    auto flaky = std::make_unique<FlakyStore>(place.open_store());
    GatedLedger g;
    g.store = flaky.get();
    options.checkpoint_file = place.checkpoint();
    auto ledger = Ledger::open(std::move(flaky), options);
    if (!ledger) {
        ADD_FAILURE() << ledger.error().message;
        return g;
    }
    g.ledger = std::move(*ledger);
    return g;
}

// submit_transfers_then answers in the writer's thread, only once the batch is durable (the
// store's commit returned), and a refused submission at once in the caller's.
TEST(LedgerCallbacks, SubmitThenAnswersOnceDurable) {
    Place place(Backend::sqlite);
    auto [ledger, store] = open_gated(place);
    ASSERT_TRUE(ledger);
    ASSERT_TRUE(
        ledger->create_accounts({wallet(1), system_account(kAssets, AccountKind::onchain_assets)}));
    store->close_gate();
    std::promise<LedgerResult<std::vector<TransferOutcome>>> answered;
    auto answer = answered.get_future();
    std::thread::id answered_on;
    ledger->submit_transfers_then({xfer(1, kAssets, 1, 50)},
                                  [&](LedgerResult<std::vector<TransferOutcome>> r) {
                                      answered_on = std::this_thread::get_id();
                                      answered.set_value(std::move(r));
                                  });
    store->wait_for_commits(2);  // the accounts' commit, then this one, held at the gate
    EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    store->open_gate();
    const auto outcome = answer.get();
    ASSERT_TRUE(outcome) << outcome.error().message;
    ASSERT_EQ(outcome->size(), 1U);
    EXPECT_EQ((*outcome)[0].result, R::ok);
    EXPECT_NE(answered_on, std::this_thread::get_id());
    EXPECT_EQ(ledger->lookup_account(id(1))->balance_msat(), 50);

    bool refused = false;
    ledger->submit_transfers_then({}, [&](LedgerResult<std::vector<TransferOutcome>> r) {
        refused = !r && r.error().code == LedgerError::invalid_submission;
        answered_on = std::this_thread::get_id();
    });
    EXPECT_TRUE(refused);
    EXPECT_EQ(answered_on, std::this_thread::get_id());
}

// With gather_wait, a submission that follows a batch of several waits for company (here up to
// gather_events) and commits with it; a submission after a lone one is not held back.
TEST(LedgerGather, ABatchAfterCompanyWaitsForMore) {
    Place place(Backend::sqlite);
    LedgerOptions options;
    options.gather_wait = std::chrono::seconds(20);
    options.gather_events = 2;
    auto [ledger, store] = open_gated(place, options);
    ASSERT_TRUE(ledger);
    ASSERT_TRUE(
        ledger->create_accounts({wallet(1), system_account(kAssets, AccountKind::onchain_assets)}));
    // After a lone batch: committed without waiting for the 20 s.
    auto lone = ledger->submit_transfers({xfer(1, kAssets, 1, 1)});
    ASSERT_EQ(lone.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    ASSERT_TRUE(lone.get());

    // A batch of two submissions: the writer held in one commit while two queue behind it.
    store->close_gate();
    auto held = ledger->submit_transfers({xfer(2, kAssets, 1, 1)});
    store->wait_for_commits(3);
    auto first = ledger->submit_transfers({xfer(3, kAssets, 1, 1)});
    auto second = ledger->submit_transfers({xfer(4, kAssets, 1, 1)});
    store->open_gate();
    ASSERT_TRUE(held.get());
    ASSERT_TRUE(first.get());
    ASSERT_TRUE(second.get());
    const auto batches = ledger->stats().batches;

    // Company before: the next one waits for a second submission.
    auto a = ledger->submit_transfers({xfer(5, kAssets, 1, 1)});
    EXPECT_EQ(a.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
    auto b = ledger->submit_transfers({xfer(6, kAssets, 1, 1)});
    ASSERT_EQ(a.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    ASSERT_TRUE(a.get());
    ASSERT_TRUE(b.get());
    EXPECT_EQ(ledger->stats().batches, batches + 1);
    EXPECT_EQ(ledger->lookup_account(id(1))->balance_msat(), 6);
}

// A failed commit is reported as a store error, leaves no trace in memory or on disk, and the
// same transfers apply normally once the store works again.
TEST(LedgerFailure, FailedCommitLeavesNoTrace) {
    Place place(Backend::sqlite);
    auto flaky = std::make_unique<FlakyStore>(place.open_store());
    FlakyStore* raw = flaky.get();
    LedgerOptions options;
    options.checkpoint_file = place.checkpoint();
    auto ledger = Ledger::open(std::move(flaky), options);
    ASSERT_TRUE(ledger);
    ASSERT_TRUE((*ledger)->create_accounts({wallet(1), system_account(kAssets, AccountKind::onchain_assets)}));
    const auto head = (*ledger)->head();
    raw->fail_commits = true;
    const auto failed = (*ledger)->create_transfers({xfer(1, kAssets, 1, 50)});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, LedgerError::store);
    EXPECT_EQ((*ledger)->lookup_account(id(1))->balance_msat(), 0);
    EXPECT_EQ((*ledger)->head(), head);
    raw->fail_commits = false;
    const auto retried = (*ledger)->create_transfers({xfer(1, kAssets, 1, 50)});
    ASSERT_TRUE(retried);
    EXPECT_EQ((*retried)[0].result, R::ok);
    EXPECT_EQ((*ledger)->lookup_account(id(1))->balance_msat(), 50);
    EXPECT_EQ((*ledger)->stats().store_failures, 1U);
    EXPECT_TRUE((*ledger)->audit().passed());
}

// Submissions outside the limits are refused before they reach the writer.
TEST(LedgerLimits, SubmissionSizeIsBounded) {
    Place place(Backend::sqlite);
    auto ledger = place.open_ledger();
    ASSERT_TRUE(ledger);
    EXPECT_EQ((*ledger)->create_transfers({}).error().code, LedgerError::invalid_submission);
    std::vector<Transfer> many(kSubmissionEventsMax + 1, xfer(1, 1, 2, 1));
    EXPECT_EQ((*ledger)->create_transfers(many).error().code, LedgerError::invalid_submission);
}

// Opening a non-empty journal without its checkpoint is refused unless asked for explicitly.
TEST(LedgerCheckpoint, MissingCheckpointIsRefused) {
    Place place(Backend::sqlite);
    {
        auto ledger = place.open_ledger();
        ASSERT_TRUE(ledger);
        ASSERT_TRUE((*ledger)->create_accounts({wallet(1)}));
    }
    std::filesystem::remove(place.checkpoint());
    auto refused = place.open_ledger();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, LedgerError::checkpoint_missing);
    LedgerOptions options;
    options.allow_missing_checkpoint = true;
    auto recovered = place.open_ledger(options);
    ASSERT_TRUE(recovered);
    EXPECT_TRUE((*recovered)->audit().passed());
}

}  // namespace ledger_test
}  // namespace
}  // namespace satload::ledger
