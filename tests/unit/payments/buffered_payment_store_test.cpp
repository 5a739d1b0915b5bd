// BufferedPaymentStore over a real SqlitePaymentStore: granted and failed attempts wait in
// memory and are read from there, are written together (by flush, by the interval's thread,
// before any other read or write of attempts, and at destruction), while held and pending
// attempts are written at once. A second store instance on the same file shows what the
// database holds.
#include "payments/buffered_payment_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

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
    std::unique_ptr<BufferedPaymentStore> buffered(std::chrono::milliseconds interval) {
        auto inner = SqlitePaymentStore::open(m_dir / "meta.sqlite");
        EXPECT_TRUE(inner) << inner.error().message;
        if (!inner) return nullptr;
        return std::make_unique<BufferedPaymentStore>(std::move(*inner), interval);
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

    ASSERT_TRUE(m_store->flush());
    EXPECT_EQ(m_store->waiting(), 0u);
    EXPECT_EQ(written(1, "f"), 2);
    EXPECT_EQ(written(2, "f"), 1);
    EXPECT_EQ(written(1, "g"), 1);
    EXPECT_EQ(m_other->latest_attempt(1, "f").value()->state, AttemptState::granted);
    // Written, it is read from the database: the same answer.
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->attempt_no, 2);
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
    for (int i = 0; i < 1000 && written(1, "f") == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(written(1, "f"), 1);
    EXPECT_EQ(m_store->waiting(), 0u);
}

}  // namespace
}  // namespace satload::payments
