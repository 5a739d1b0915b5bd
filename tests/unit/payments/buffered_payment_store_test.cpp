// BufferedPaymentStore over a real SqlitePaymentStore: granted and failed attempts wait in
// memory and are read from there, are written together (by flush, by the interval's thread,
// before any other read or write of attempts, and at destruction), while held and pending
// attempts are written at once. A second store instance on the same file shows what the
// database holds.
#include "payments/buffered_payment_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <utility>

#include "payments/sqlite_payment_store.h"

namespace satload::payments {
namespace {

using namespace std::chrono_literals;

PaymentAttempt attempt(AccountId payer, const std::string& file, std::int64_t no,
                       AttemptState state = AttemptState::granted) {
    PaymentAttempt a;
    a.payer = payer;
    a.file_id = file;
    a.attempt_no = no;
    a.state = state;
    a.uploader = 50;
    a.price_msat = 1'000;
    a.uploader_msat = 900;
    a.platform_msat = 100;
    a.created_s = 1'000 + no;
    a.expires_s = state == AttemptState::granted ? 5'000 : 0;
    return a;
}

class BufferedPaymentStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : "/tmp") /
                ("buffered_payments_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_store = buffered(1h);  // the interval never passes unless a test says so
        auto other = SqlitePaymentStore::open(m_dir / "meta.sqlite");
        ASSERT_TRUE(other) << other.error().message;
        m_other = std::move(*other);
    }
    void TearDown() override {
        m_store.reset();
        m_other.reset();
        std::filesystem::remove_all(m_dir);
    }
    std::unique_ptr<BufferedPaymentStore> buffered(std::chrono::milliseconds interval,
                                                   const std::string& db = "meta.sqlite",
                                                   const std::string& logs = "records") {
        auto inner = SqlitePaymentStore::open(m_dir / db);
        EXPECT_TRUE(inner) << inner.error().message;
        if (!inner) return nullptr;
        auto store = BufferedPaymentStore::open(std::move(*inner), m_dir / logs, interval);
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }
    std::size_t log_files(const std::string& logs = "records") {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::directory_iterator(m_dir / logs)) n += e.path().extension() == ".log";
        return n;
    }
    // The number of the latest attempt the database holds for (payer, file), 0 for none.
    std::int64_t written(AccountId payer, const std::string& file) {
        auto latest = m_other->latest_attempt(payer, file);
        EXPECT_TRUE(latest);
        return latest && *latest ? (*latest)->attempt_no : 0;
    }

    std::filesystem::path m_dir;
    std::unique_ptr<BufferedPaymentStore> m_store;
    std::unique_ptr<SqlitePaymentStore> m_other;
};

TEST_F(BufferedPaymentStoreTest, WaitingAttemptsAreReadHereAndWrittenTogether) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1, AttemptState::failed)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 2)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(2, "f", 1)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "g", 1)));
    EXPECT_EQ(m_store->waiting(), 4u);
    EXPECT_EQ(written(1, "f"), 0);
    auto latest = m_store->latest_attempt(1, "f");
    ASSERT_TRUE(latest && *latest);
    EXPECT_EQ((*latest)->attempt_no, 2);
    EXPECT_EQ((*latest)->state, AttemptState::granted);
    EXPECT_EQ((*latest)->expires_s, 5'000);
    EXPECT_FALSE(m_store->latest_attempt(3, "f").value().has_value());
    EXPECT_FALSE(m_store->latest_attempt(1, "e").value().has_value());
    // A number that waits is taken; the first record stands.
    auto again = m_store->insert_attempt(attempt(1, "f", 2, AttemptState::failed));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::exists);

    EXPECT_EQ(log_files(), 1u);
    ASSERT_TRUE(m_store->flush());
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(log_files(), 1u);  // the flushed log went; the next one is empty
    EXPECT_EQ(written(1, "f"), 2);
    EXPECT_EQ(written(2, "f"), 1);
    EXPECT_EQ(written(1, "g"), 1);
    EXPECT_EQ(m_other->latest_attempt(1, "f").value()->state, AttemptState::granted);
    // Written, it is read from the database: the same answer.
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->attempt_no, 2);
    // A second flush deletes the log the first one started, once its record is stored.
    ASSERT_TRUE(m_store->insert_attempt(attempt(3, "f", 1)));
    ASSERT_TRUE(m_store->flush());
    EXPECT_EQ(log_files(), 1u);
    EXPECT_EQ(written(3, "f"), 1);
}

TEST_F(BufferedPaymentStoreTest, HeldAndPendingAttemptsAreWrittenAtOnceAfterWhatWaits) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    PaymentAttempt held = attempt(1, "f", 2);
    held.held = true;
    ASSERT_TRUE(m_store->insert_attempt(held));
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(written(1, "f"), 2);
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->attempt_no, 2);
    EXPECT_EQ(m_store->unsettled_holds("f", 10).value().size(), 1u);

    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "g", 1)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "g", 2, AttemptState::pending)));
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(written(1, "g"), 2);
    ASSERT_TRUE(m_store->finish_attempt(1, "g", 2, AttemptState::granted, 9));
    EXPECT_EQ(m_other->latest_attempt(1, "g").value()->expires_s, 9);
}

TEST_F(BufferedPaymentStoreTest, ReadsOfEarningsWriteWhatWaitsFirst) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(2, "f", 1, AttemptState::failed)));
    auto earnings = m_store->earnings(50);
    ASSERT_TRUE(earnings);
    ASSERT_EQ(earnings->size(), 1u);
    EXPECT_EQ((*earnings)[0].downloads, 1u);
    EXPECT_EQ((*earnings)[0].gross_msat, 1'000);
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(written(2, "f"), 1);
}

TEST_F(BufferedPaymentStoreTest, DestructionWritesWhatWaits) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    EXPECT_EQ(written(1, "f"), 0);
    m_store.reset();
    EXPECT_EQ(written(1, "f"), 1);
}

// The interval's thread writes what waits without any other call (bounded wait, no timing
// figure asserted).
TEST_F(BufferedPaymentStoreTest, TheIntervalWritesWhatWaits) {
    m_store.reset();
    m_store = buffered(5ms);
    ASSERT_TRUE(m_store);
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    // A record leaves the waiting ones only once the store has it.
    for (int i = 0; i < 1000 && m_store->waiting() > 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(written(1, "f"), 1);
}

// A process killed with records waiting left them in its log: the next open writes them to
// the store before anything else, and the log goes. (The kill: the waiting log is copied aside
// and opened over a second database that never saw the records.)
TEST_F(BufferedPaymentStoreTest, RecordsOfAKilledProcessAreWrittenAtTheNextOpen) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(2, "g", 3, AttemptState::failed)));
    std::filesystem::copy(m_dir / "records", m_dir / "killed");
    auto reopened = buffered(1h, "other.sqlite", "killed");
    ASSERT_TRUE(reopened);
    auto other = SqlitePaymentStore::open(m_dir / "other.sqlite");
    ASSERT_TRUE(other);
    auto first = (*other)->latest_attempt(1, "f");
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->state, AttemptState::granted);
    EXPECT_EQ((*first)->expires_s, 5'000);
    auto second = (*other)->latest_attempt(2, "g");
    ASSERT_TRUE(second && *second);
    EXPECT_EQ((*second)->attempt_no, 3);
    EXPECT_EQ((*second)->state, AttemptState::failed);
    EXPECT_EQ(reopened->waiting(), 0u);
    EXPECT_EQ(log_files("killed"), 1u);  // the new, empty log only
    reopened.reset();
    EXPECT_EQ(log_files("killed"), 0u);  // nothing waited at the end: no log left
}

// A second process on the same logs is refused before it reads or deletes any: the first one's
// waiting records stay logged.
TEST_F(BufferedPaymentStoreTest, ASecondProcessIsRefusedTheLogs) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    auto inner = SqlitePaymentStore::open(m_dir / "other.sqlite");
    ASSERT_TRUE(inner);
    auto second = BufferedPaymentStore::open(std::move(*inner), m_dir / "records", 1h);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("another process"), std::string::npos) << second.error().message;
    EXPECT_EQ(log_files(), 1u);
    EXPECT_EQ(m_store->waiting(), 1u);
}

// Lines of one number in several logs: the latest written wins at the next open (a record
// whose payment failed, then its retry's), whatever order the directory lists them in.
TEST_F(BufferedPaymentStoreTest, TheLastLineOfANumberWinsAtReplay) {
    m_store.reset();
    std::filesystem::create_directories(m_dir / "two");
    {
        std::ofstream older(m_dir / "two" / "00000000000000000009.log", std::ios::binary);
        older << attempt_log_line(attempt(1, "f", 1, AttemptState::failed)).value();
        std::ofstream newer(m_dir / "two" / "00000000000000000010.log", std::ios::binary);
        newer << attempt_log_line(attempt(1, "f", 1)).value();
    }
    auto store = buffered(1h, "meta.sqlite", "two");
    ASSERT_TRUE(store);
    auto latest = m_other->latest_attempt(1, "f");
    ASSERT_TRUE(latest && *latest);
    EXPECT_EQ((*latest)->state, AttemptState::granted);
}

// A line a crash cut short is skipped; the records before it are written.
TEST_F(BufferedPaymentStoreTest, ALineCutShortIsSkipped) {
    m_store.reset();
    const std::string whole = attempt_log_line(attempt(1, "f", 1)).value();
    const std::string cut = attempt_log_line(attempt(1, "f", 2)).value();
    std::filesystem::create_directories(m_dir / "cut");
    {
        std::ofstream out(m_dir / "cut" / "00000000000000000007.log", std::ios::binary);
        out << whole << cut.substr(0, cut.size() - 1);
    }
    auto store = buffered(1h, "meta.sqlite", "cut");
    ASSERT_TRUE(store);
    EXPECT_EQ(written(1, "f"), 1);
}

// The log line: every field reads back; only records that may wait have one; anything else
// read as a line is refused.
TEST(AttemptLogLine, RoundTripAndRefusals) {
    PaymentAttempt a = attempt(-3, "AbC_d-9", 12, AttemptState::failed);
    a.referrer = 77;
    a.referrer_msat = 5;
    a.uploader_msat = 895;
    a.payee = 88;
    const auto line = attempt_log_line(a);
    ASSERT_TRUE(line);
    const auto back = parse_attempt_log_line(*line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->payer, -3);
    EXPECT_EQ(back->file_id, "AbC_d-9");
    EXPECT_EQ(back->attempt_no, 12);
    EXPECT_EQ(back->state, AttemptState::failed);
    EXPECT_EQ(back->uploader, 50);
    EXPECT_EQ(back->referrer, 77);
    EXPECT_EQ(back->price_msat, 1'000);
    EXPECT_EQ(back->uploader_msat, 895);
    EXPECT_EQ(back->referrer_msat, 5);
    EXPECT_EQ(back->platform_msat, 100);
    EXPECT_EQ(back->created_s, 1'012);
    EXPECT_EQ(back->payee, 88);
    EXPECT_FALSE(back->held);
    EXPECT_EQ(attempt_log_line(*back), line);

    PaymentAttempt held = attempt(1, "f", 1);
    held.held = true;
    EXPECT_FALSE(attempt_log_line(held));
    EXPECT_FALSE(attempt_log_line(attempt(1, "f", 1, AttemptState::pending)));
    EXPECT_FALSE(attempt_log_line(attempt(1, "a b", 1)));
    EXPECT_FALSE(attempt_log_line(attempt(1, "", 1)));

    for (const std::string& bad : {std::string(""), std::string("\n"), line->substr(0, line->size() - 1),
                                  "x" + line->substr(1), *line + "\n", line->substr(0, line->size() - 1) + " \n",
                                  line->substr(0, line->size() - 1) + " 1\n"}) {
        EXPECT_FALSE(parse_attempt_log_line(bad)) << bad;
    }
    std::string bad_state = *line;
    bad_state.replace(bad_state.find(" f "), 3, " p ");
    EXPECT_FALSE(parse_attempt_log_line(bad_state));
    // What the attempts table would refuse: a number below 1, no price, shares that do not
    // add up to it or are negative.
    PaymentAttempt odd = attempt(1, "f", 1);
    odd.attempt_no = 0;
    EXPECT_FALSE(parse_attempt_log_line(attempt_log_line(odd).value()));
    odd = attempt(1, "f", 1);
    odd.platform_msat = 101;
    EXPECT_FALSE(parse_attempt_log_line(attempt_log_line(odd).value()));
    odd = attempt(1, "f", 1);
    odd.uploader_msat = 1'100;
    odd.platform_msat = -100;
    EXPECT_FALSE(parse_attempt_log_line(attempt_log_line(odd).value()));
    odd = attempt(1, "f", 1);
    odd.price_msat = odd.uploader_msat = odd.platform_msat = 0;
    EXPECT_FALSE(parse_attempt_log_line(attempt_log_line(odd).value()));
    // A file id too long for a line has none: that record goes to the store at once.
    EXPECT_FALSE(attempt_log_line(attempt(1, std::string(1'100, 'x'), 1)));
}

// The SQLite store under the buffer syncs a held attempt's record before it answers (the
// sweep that settles holds finds the reservation only through it: a crash of the machine must
// not lose it); any other attempt is committed unsynced, durable with the next synced commit.
TEST_F(BufferedPaymentStoreTest, HeldAttemptsAreSyncedOthersAreNot) {
    const std::size_t before = m_other->synced_commits();
    ASSERT_TRUE(m_other->insert_attempt(attempt(1, "plain", 1)));
    ASSERT_TRUE(m_other->insert_attempt(attempt(1, "pending", 1, AttemptState::pending)));
    EXPECT_EQ(m_other->synced_commits(), before);
    PaymentAttempt held = attempt(1, "held", 1, AttemptState::pending);
    held.held = true;
    ASSERT_TRUE(m_other->insert_attempt(held));
    EXPECT_EQ(m_other->synced_commits(), before + 1);
    auto read = m_store->latest_attempt(1, "held");
    ASSERT_TRUE(read && *read);
    EXPECT_TRUE((*read)->held);
}

// A real SQLite payment store whose two kept reads run a hook between the database's answer
// and its return: a write racing the read.
class HookedPaymentStore final : public PaymentStore {
public:
    explicit HookedPaymentStore(std::unique_ptr<PaymentStore> inner) : m_inner(std::move(inner)) {}
    std::function<void()> during_latest_read;
    std::function<void()> during_redirect_read;
    int latest_reads = 0;
    int redirect_reads = 0;

    [[nodiscard]] bool shared_by_servers() const override { return false; }
    StoreResult<std::optional<PaymentAttempt>> latest_attempt(AccountId payer,
                                                              const std::string& file_id) override {
        ++latest_reads;
        auto r = m_inner->latest_attempt(payer, file_id);
        if (during_latest_read) std::exchange(during_latest_read, nullptr)();
        return r;
    }
    StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) override {
        ++redirect_reads;
        auto r = m_inner->redirect_of(file_id);
        if (during_redirect_read) std::exchange(during_redirect_read, nullptr)();
        return r;
    }
    StoreResult<void> insert_attempt(const PaymentAttempt& a) override {
        return m_inner->insert_attempt(a);
    }
    StoreResult<void> insert_attempts(std::span<const PaymentAttempt> a) override {
        return m_inner->insert_attempts(a);
    }
    StoreResult<void> finish_attempt(AccountId payer, const std::string& file_id, std::int64_t no,
                                     AttemptState state, std::int64_t expires_s) override {
        return m_inner->finish_attempt(payer, file_id, no, state, expires_s);
    }
    StoreResult<void> record_recovered_attempt(const PaymentAttempt& a) override {
        return m_inner->record_recovered_attempt(a);
    }
    StoreResult<std::vector<FileEarnings>> earnings(AccountId uploader) override {
        return m_inner->earnings(uploader);
    }
    StoreResult<ReferralEarnings> referral_earnings(AccountId referrer) override {
        return m_inner->referral_earnings(referrer);
    }
    StoreResult<std::optional<std::string>> referral_code(AccountId account) override {
        return m_inner->referral_code(account);
    }
    StoreResult<void> set_referral_code(AccountId account, const std::string& code) override {
        return m_inner->set_referral_code(account, code);
    }
    StoreResult<std::optional<AccountId>> referral_owner(const std::string& code) override {
        return m_inner->referral_owner(code);
    }
    StoreResult<std::vector<PaymentAttempt>> unsettled_holds(
        const std::string& file_id, std::size_t limit, std::optional<HoldCursor> after) override {
        return m_inner->unsettled_holds(file_id, limit, after);
    }
    StoreResult<std::vector<std::string>> files_with_unsettled_holds(
        std::size_t limit, const std::string& after_file) override {
        return m_inner->files_with_unsettled_holds(limit, after_file);
    }
    StoreResult<void> settle_hold(AccountId payer, const std::string& file_id, std::int64_t no,
                                  HoldOutcome outcome, AccountId settled_to) override {
        return m_inner->settle_hold(payer, file_id, no, outcome, settled_to);
    }
    StoreResult<void> set_redirect(const EarningsRedirect& r) override {
        return m_inner->set_redirect(r);
    }

private:
    std::unique_ptr<PaymentStore> m_inner;
};

class KeptAnswersTest : public BufferedPaymentStoreTest {
protected:
    void SetUp() override {
        BufferedPaymentStoreTest::SetUp();
        m_store.reset();
        auto inner = SqlitePaymentStore::open(m_dir / "meta.sqlite");
        ASSERT_TRUE(inner) << inner.error().message;
        auto hooked = std::make_unique<HookedPaymentStore>(std::move(*inner));
        m_hooked = hooked.get();
        auto store = BufferedPaymentStore::open(std::move(hooked), m_dir / "records", 1h);
        ASSERT_TRUE(store) << store.error().message;
        m_store = std::move(*store);
    }
    // Reads (payer, file) twice: no attempt, and the second answer from memory.
    void expect_absence_kept(AccountId payer, const std::string& file) {
        ASSERT_FALSE(m_store->latest_attempt(payer, file).value().has_value());
        const int reads = m_hooked->latest_reads;
        ASSERT_FALSE(m_store->latest_attempt(payer, file).value().has_value());
        EXPECT_EQ(m_hooked->latest_reads, reads) << "the second read went to the database";
    }
    std::int64_t latest_no(AccountId payer, const std::string& file) {
        auto latest = m_store->latest_attempt(payer, file);
        EXPECT_TRUE(latest);
        return latest && *latest ? (*latest)->attempt_no : 0;
    }

    HookedPaymentStore* m_hooked = nullptr;
};

// That a payer has no attempt for a file is read once, and every way an attempt is written
// ends it: one that waits (also once flushed), a held or pending one written at once, one
// recovered from the ledger, a batch.
TEST_F(KeptAnswersTest, AKnownAbsenceEndsWithEveryWayAnAttemptIsWritten) {
    expect_absence_kept(1, "waits");
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "waits", 1)));
    EXPECT_EQ(latest_no(1, "waits"), 1);
    ASSERT_TRUE(m_store->flush());
    EXPECT_EQ(latest_no(1, "waits"), 1);

    expect_absence_kept(1, "held");
    PaymentAttempt held = attempt(1, "held", 1);
    held.held = true;
    ASSERT_TRUE(m_store->insert_attempt(held));
    EXPECT_EQ(latest_no(1, "held"), 1);

    expect_absence_kept(1, "pending");
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "pending", 1, AttemptState::pending)));
    EXPECT_EQ(latest_no(1, "pending"), 1);

    expect_absence_kept(1, "recovered");
    ASSERT_TRUE(m_store->record_recovered_attempt(attempt(1, "recovered", 3)));
    EXPECT_EQ(latest_no(1, "recovered"), 3);

    expect_absence_kept(1, "batch");
    const PaymentAttempt batch[] = {attempt(1, "batch", 2)};
    ASSERT_TRUE(m_store->insert_attempts(batch));
    EXPECT_EQ(latest_no(1, "batch"), 2);
    EXPECT_EQ(m_store->known_absent_attempts(), 0u);
}

// An attempt written while the database was being read (after it answered "none", before the
// answer was kept) leaves nothing kept: the next read finds the attempt. Both ways: waiting,
// and written at once.
TEST_F(KeptAnswersTest, AnAbsenceThatRacedAWriteIsNotKept) {
    m_hooked->during_latest_read = [&] {
        ASSERT_TRUE(m_store->insert_attempt(attempt(2, "f", 1)));
    };
    EXPECT_FALSE(m_store->latest_attempt(2, "f").value().has_value());  // read before the write
    ASSERT_TRUE(m_store->flush());
    EXPECT_EQ(latest_no(2, "f"), 1);

    m_hooked->during_latest_read = [&] {
        ASSERT_TRUE(m_store->insert_attempt(attempt(2, "g", 1, AttemptState::pending)));
    };
    EXPECT_FALSE(m_store->latest_attempt(2, "g").value().has_value());
    EXPECT_EQ(latest_no(2, "g"), 1);
    EXPECT_EQ(m_store->known_absent_attempts(), 0u);
}

// A file's redirect, and its absence, are read once; setting one (again: replacing it) is seen
// by the next read, also when it raced a read.
TEST_F(KeptAnswersTest, RedirectsAreKeptUntilSet) {
    EXPECT_FALSE(m_store->redirect_of("f").value().has_value());
    const int reads = m_hooked->redirect_reads;
    EXPECT_FALSE(m_store->redirect_of("f").value().has_value());
    EXPECT_EQ(m_hooked->redirect_reads, reads);

    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 7, false, 100}));
    EXPECT_EQ(m_store->redirect_of("f").value()->claimant, 7);
    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 8, true, 200}));
    EXPECT_EQ(m_store->redirect_of("f").value()->claimant, 8);
    EXPECT_TRUE(m_store->redirect_of("f").value()->include_held);

    m_hooked->during_redirect_read = [&] {
        ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"g", 9, false, 300}));
    };
    EXPECT_FALSE(m_store->redirect_of("g").value().has_value());
    EXPECT_EQ(m_store->redirect_of("g").value()->claimant, 9);
}

}  // namespace
}  // namespace satload::payments
