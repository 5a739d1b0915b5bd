// The payment store's contract on both backends (SQLite, and PostgreSQL in a fresh schema):
// attempts recorded once per (payer, file, number) and ended only while pending, earnings and
// referral sums over granted attempts only, referral codes unique both ways, held legs listed
// oldest first and settled once, redirects replaced; and, as two server processes would use
// it, two store instances on one database that see each other's writes at once and record an
// attempt (or a code) started by both at the same moment exactly once.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "payments/pg_payment_store.h"
#include "payments/sqlite_payment_store.h"
#include "payments/store_backend.h"

namespace satload::payments {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace payment_store_test {

using store::testing::DbBackend;

class PaymentStoreTest
    : public store::testing::StoreSuite<PaymentStore, SqlitePaymentStore, PgPaymentStore> {};

PaymentAttempt attempt(AccountId payer, const std::string& file, std::int64_t no,
                       std::int64_t price = 1'000) {
    PaymentAttempt a;
    a.payer = payer;
    a.file_id = file;
    a.attempt_no = no;
    a.uploader = 50;
    a.price_msat = price;
    a.uploader_msat = price - price / 10;
    a.platform_msat = price / 10;
    a.created_s = 1'000 + no;
    a.expires_s = 0;
    return a;
}

void expect_same(const PaymentAttempt& a, const PaymentAttempt& b) {
    EXPECT_EQ(a.payer, b.payer);
    EXPECT_EQ(a.file_id, b.file_id);
    EXPECT_EQ(a.attempt_no, b.attempt_no);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.uploader, b.uploader);
    EXPECT_EQ(a.referrer, b.referrer);
    EXPECT_EQ(a.price_msat, b.price_msat);
    EXPECT_EQ(a.uploader_msat, b.uploader_msat);
    EXPECT_EQ(a.referrer_msat, b.referrer_msat);
    EXPECT_EQ(a.platform_msat, b.platform_msat);
    EXPECT_EQ(a.created_s, b.created_s);
    EXPECT_EQ(a.expires_s, b.expires_s);
    EXPECT_EQ(a.payee, b.payee);
    EXPECT_EQ(a.held, b.held);
    EXPECT_EQ(a.hold_outcome, b.hold_outcome);
    EXPECT_EQ(a.settled_to, b.settled_to);
}

// Every field reads back as written, optional ones present and absent; the latest attempt is
// the highest number of that payer and file only; a number taken is `exists` and the first
// write stands.
TEST_P(PaymentStoreTest, AttemptsReadBackAndNumbersAreTakenOnce) {
    EXPECT_FALSE(m_store->latest_attempt(1, "f").value().has_value());
    PaymentAttempt first = attempt(1, "f", 1);
    ASSERT_TRUE(m_store->insert_attempt(first));
    PaymentAttempt second = attempt(1, "f", 2, 2'000);
    second.referrer = 7;
    second.referrer_msat = 300;
    second.uploader_msat = 1'500;
    second.platform_msat = 200;
    second.payee = 9;
    second.held = true;
    second.hold_outcome = HoldOutcome::redirected;
    second.settled_to = 9;
    ASSERT_TRUE(m_store->insert_attempt(second));
    ASSERT_TRUE(m_store->insert_attempt(attempt(2, "f", 5)));
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "g", 6)));

    auto latest = m_store->latest_attempt(1, "f");
    ASSERT_TRUE(latest && latest->has_value());
    expect_same(**latest, second);

    PaymentAttempt again = attempt(1, "f", 1, 5'000);
    auto dup = m_store->insert_attempt(again);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, StoreError::exists);
    ASSERT_TRUE(m_store->finish_attempt(1, "f", 1, AttemptState::failed, 0));  // still the first
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->attempt_no, 2);
    EXPECT_EQ(m_store->latest_attempt(2, "f").value()->attempt_no, 5);
}

// An attempt ends once: granted with its expiry, or failed; ending it again, or one that does
// not exist, is not_found and changes nothing.
TEST_P(PaymentStoreTest, OnlyPendingAttemptsFinish) {
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    ASSERT_TRUE(m_store->finish_attempt(1, "f", 1, AttemptState::granted, 4'242));
    auto a = m_store->latest_attempt(1, "f").value();
    EXPECT_EQ(a->state, AttemptState::granted);
    EXPECT_EQ(a->expires_s, 4'242);
    auto again = m_store->finish_attempt(1, "f", 1, AttemptState::failed, 0);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::not_found);
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->state, AttemptState::granted);
    auto missing = m_store->finish_attempt(1, "f", 2, AttemptState::granted, 1);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, StoreError::not_found);
}

// Earnings per file, in byte order of the file id (upper case before lower case), over granted
// attempts only: gross is what payers paid; net counts legs neither redirected nor held, and
// held legs once released; held is the legs still pending. Referral sums likewise.
TEST_P(PaymentStoreTest, EarningsAndReferralSumsCountGrantedAttemptsOnly) {
    const auto add = [this](PaymentAttempt a, AttemptState state) {
        ASSERT_TRUE(m_store->insert_attempt(a));
        if (state != AttemptState::pending) {
            ASSERT_TRUE(m_store->finish_attempt(a.payer, a.file_id, a.attempt_no, state, 9));
        }
    };
    PaymentAttempt plain = attempt(1, "alpha", 1, 1'000);  // net 900
    add(plain, AttemptState::granted);
    PaymentAttempt referred = attempt(2, "alpha", 1, 1'000);
    referred.referrer = 77;
    referred.uploader_msat = 800;
    referred.referrer_msat = 100;
    add(referred, AttemptState::granted);  // net 800
    PaymentAttempt held = attempt(3, "alpha", 1, 2'000);
    held.held = true;
    add(held, AttemptState::granted);  // held 1'800
    PaymentAttempt released = attempt(4, "alpha", 1, 2'000);
    released.held = true;
    add(released, AttemptState::granted);
    ASSERT_TRUE(m_store->settle_hold(4, "alpha", 1, HoldOutcome::released, 50));  // net 1'800
    PaymentAttempt redirected = attempt(5, "Zeta", 1, 3'000);
    redirected.payee = 99;
    add(redirected, AttemptState::granted);  // gross only
    add(attempt(6, "alpha", 1, 5'000), AttemptState::failed);
    PaymentAttempt pending = attempt(7, "Zeta", 1, 5'000);
    pending.referrer = 77;
    pending.uploader_msat = 4'000;
    pending.referrer_msat = 500;
    add(pending, AttemptState::pending);
    PaymentAttempt other = attempt(8, "alpha", 1, 1'000);
    other.uploader = 51;
    add(other, AttemptState::granted);

    auto e = m_store->earnings(50);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->size(), 2u);
    EXPECT_EQ((*e)[0].file_id, "Zeta");
    EXPECT_EQ((*e)[0].downloads, 1u);
    EXPECT_EQ((*e)[0].gross_msat, 3'000);
    EXPECT_EQ((*e)[0].net_msat, 0);
    EXPECT_EQ((*e)[0].held_msat, 0);
    EXPECT_EQ((*e)[1].file_id, "alpha");
    EXPECT_EQ((*e)[1].downloads, 4u);
    EXPECT_EQ((*e)[1].gross_msat, 6'000);
    EXPECT_EQ((*e)[1].net_msat, 900 + 800 + 1'800);
    EXPECT_EQ((*e)[1].held_msat, 1'800);
    EXPECT_TRUE(m_store->earnings(52).value().empty());

    auto r = m_store->referral_earnings(77);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->payments, 1u);
    EXPECT_EQ(r->earned_msat, 100);
    auto none = m_store->referral_earnings(78);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->payments, 0u);
    EXPECT_EQ(none->earned_msat, 0);
}

// A referral code names one account and an account has one code: a code taken, or a second
// code for an account, is `exists`; unknown codes and accounts read as nothing.
TEST_P(PaymentStoreTest, ReferralCodesAreUniqueBothWays) {
    EXPECT_FALSE(m_store->referral_code(1).value().has_value());
    ASSERT_TRUE(m_store->set_referral_code(1, "Code1"));
    EXPECT_EQ(m_store->referral_code(1).value(), "Code1");
    EXPECT_EQ(m_store->referral_owner("Code1").value(), 1);
    EXPECT_FALSE(m_store->referral_owner("code1").value().has_value());  // case matters
    auto taken = m_store->set_referral_code(2, "Code1");
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, StoreError::exists);
    auto second = m_store->set_referral_code(1, "Other");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, StoreError::exists);
    EXPECT_FALSE(m_store->referral_owner("Other").value().has_value());
    EXPECT_FALSE(m_store->referral_code(2).value().has_value());
}

// Held legs: granted, held and unsettled attempts of a file, oldest first, up to the limit;
// the files that have them in byte order; a settlement records its outcome and account once.
TEST_P(PaymentStoreTest, HeldLegsListedOldestFirstAndSettledOnce) {
    for (AccountId payer : {3, 1, 2}) {
        PaymentAttempt a = attempt(payer, "held", 1);
        a.held = true;
        a.created_s = 100 - payer;  // payer 3 oldest
        ASSERT_TRUE(m_store->insert_attempt(a));
        ASSERT_TRUE(m_store->finish_attempt(payer, "held", 1, AttemptState::granted, 500));
    }
    PaymentAttempt pending = attempt(4, "held", 1);
    pending.held = true;
    // Recorded pending and never finished (a crash): listed too, last (the newest); settlement
    // asks the ledger whether its group applied.
    ASSERT_TRUE(m_store->insert_attempt(pending));
    PaymentAttempt other = attempt(1, "Another", 1);
    other.held = true;
    ASSERT_TRUE(m_store->insert_attempt(other));
    ASSERT_TRUE(m_store->finish_attempt(1, "Another", 1, AttemptState::granted, 500));
    ASSERT_TRUE(m_store->insert_attempt(attempt(5, "plain", 1)));
    ASSERT_TRUE(m_store->finish_attempt(5, "plain", 1, AttemptState::granted, 500));

    auto holds = m_store->unsettled_holds("held", 2);
    ASSERT_TRUE(holds);
    ASSERT_EQ(holds->size(), 2u);
    EXPECT_EQ((*holds)[0].payer, 3);
    EXPECT_EQ((*holds)[1].payer, 2);
    EXPECT_EQ(m_store->files_with_unsettled_holds(10).value(),
              (std::vector<std::string>{"Another", "held"}));
    EXPECT_EQ(m_store->files_with_unsettled_holds(1).value(),
              (std::vector<std::string>{"Another"}));
    EXPECT_EQ(m_store->files_with_unsettled_holds(1, "Another").value(),
              (std::vector<std::string>{"held"}));
    EXPECT_TRUE(m_store->files_with_unsettled_holds(10, "held").value().empty());

    ASSERT_TRUE(m_store->settle_hold(3, "held", 1, HoldOutcome::redirected, 99));
    auto again = m_store->settle_hold(3, "held", 1, HoldOutcome::released, 50);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::not_found);
    auto not_held = m_store->settle_hold(5, "plain", 1, HoldOutcome::released, 50);
    ASSERT_FALSE(not_held);
    EXPECT_EQ(not_held.error().code, StoreError::not_found);
    auto settled = m_store->latest_attempt(3, "held").value();
    EXPECT_EQ(settled->hold_outcome, HoldOutcome::redirected);
    EXPECT_EQ(settled->settled_to, 99);
    holds = m_store->unsettled_holds("held", 10);
    ASSERT_TRUE(holds);
    ASSERT_EQ(holds->size(), 3u);
    EXPECT_EQ((*holds)[0].payer, 2);
    EXPECT_EQ((*holds)[1].payer, 1);
    EXPECT_EQ((*holds)[2].payer, 4);
    EXPECT_EQ((*holds)[2].state, AttemptState::pending);
}

// A file's redirect reads back as set, and setting it again replaces it.
TEST_P(PaymentStoreTest, RedirectIsReplaced) {
    EXPECT_FALSE(m_store->redirect_of("f").value().has_value());
    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 7, true, 100}));
    auto r = m_store->redirect_of("f").value();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->claimant, 7);
    EXPECT_TRUE(r->include_held);
    EXPECT_EQ(r->created_s, 100);
    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 8, false, 200}));
    r = m_store->redirect_of("f").value();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->file_id, "f");
    EXPECT_EQ(r->claimant, 8);
    EXPECT_FALSE(r->include_held);
    EXPECT_EQ(r->created_s, 200);
    EXPECT_FALSE(m_store->redirect_of("g").value().has_value());
}

// A text with a NUL byte after a known file id or code names nothing on either backend (on
// PostgreSQL, whose client library ends parameters at a NUL, it must not reach the row of
// the part before it); on PostgreSQL writing one is refused and stores nothing.
TEST_P(PaymentStoreTest, TextWithNulNamesNothing) {
    const std::string nul_file("f\0x", 3);
    const std::string nul_code("c\0x", 3);
    PaymentAttempt held = attempt(1, "f", 1);
    held.held = true;
    ASSERT_TRUE(m_store->insert_attempt(held));
    ASSERT_TRUE(m_store->set_referral_code(1, "c"));
    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 7, false, 1}));
    EXPECT_FALSE(m_store->latest_attempt(1, nul_file).value().has_value());
    auto finish = m_store->finish_attempt(1, nul_file, 1, AttemptState::granted, 5);
    ASSERT_FALSE(finish);
    EXPECT_EQ(finish.error().code, StoreError::not_found);
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->state, AttemptState::pending);
    ASSERT_TRUE(m_store->finish_attempt(1, "f", 1, AttemptState::granted, 5));
    EXPECT_TRUE(m_store->unsettled_holds(nul_file, 10).value().empty());
    auto settle = m_store->settle_hold(1, nul_file, 1, HoldOutcome::released, 50);
    ASSERT_FALSE(settle);
    EXPECT_EQ(settle.error().code, StoreError::not_found);
    EXPECT_EQ(m_store->unsettled_holds("f", 10).value().size(), 1u);
    EXPECT_FALSE(m_store->referral_owner(nul_code).value().has_value());
    EXPECT_FALSE(m_store->redirect_of(nul_file).value().has_value());
    if (GetParam() == DbBackend::postgres) {
        EXPECT_FALSE(m_store->insert_attempt(attempt(2, nul_file, 1)));
        EXPECT_FALSE(m_store->latest_attempt(2, "f").value().has_value());
        EXPECT_FALSE(m_store->set_referral_code(2, nul_code));
        EXPECT_FALSE(m_store->referral_code(2).value().has_value());
        EXPECT_FALSE(m_store->set_redirect(EarningsRedirect{nul_file, 8, false, 2}));
        EXPECT_EQ(m_store->redirect_of("f").value()->claimant, 7);
    }
}

// Two instances on one database (two server processes): each write is visible to the other
// as soon as the call returns, with nothing cached on either side.
TEST_P(PaymentStoreTest, TwoInstancesSeeEachOthersWritesAtOnce) {
    auto other = open_store();
    ASSERT_TRUE(other);
    ASSERT_TRUE(m_store->insert_attempt(attempt(1, "f", 1)));
    ASSERT_EQ(other->latest_attempt(1, "f").value()->state, AttemptState::pending);
    ASSERT_TRUE(other->finish_attempt(1, "f", 1, AttemptState::granted, 77));
    EXPECT_EQ(m_store->latest_attempt(1, "f").value()->state, AttemptState::granted);
    EXPECT_EQ(m_store->earnings(50).value().size(), 1u);
    ASSERT_TRUE(m_store->set_referral_code(1, "abc"));
    EXPECT_EQ(other->referral_owner("abc").value(), 1);
    ASSERT_TRUE(other->set_redirect(EarningsRedirect{"f", 5, false, 1}));
    EXPECT_EQ(m_store->redirect_of("f").value()->claimant, 5);
    ASSERT_TRUE(m_store->set_redirect(EarningsRedirect{"f", 6, true, 2}));
    EXPECT_EQ(other->redirect_of("f").value()->claimant, 6);
}

// The same attempt started at the same moment by two instances (two servers taking the same
// request): exactly one insert succeeds, the other is told `exists`, and one row is recorded;
// likewise one code claimed for two accounts at once goes to exactly one of them.
TEST_P(PaymentStoreTest, SameAttemptFromTwoInstancesAtOnceIsRecordedOnce) {
    auto other = open_store();
    ASSERT_TRUE(other);
    constexpr int kRounds = 40;
    for (int round = 0; round < kRounds; ++round) {
        const std::string file = "race" + std::to_string(round);
        std::latch start(2);
        StoreResult<void> results[2];
        PaymentStore* stores[2] = {m_store.get(), other.get()};
        std::thread threads[2];
        for (int i = 0; i < 2; ++i) {
            threads[i] = std::thread([&, i] {
                PaymentAttempt a = attempt(1, file, 1);
                a.created_s = 10 + i;  // which one won shows in the row
                start.arrive_and_wait();
                results[i] = stores[i]->insert_attempt(a);
            });
        }
        for (auto& t : threads) t.join();
        ASSERT_NE(static_cast<bool>(results[0]), static_cast<bool>(results[1]))
            << "round " << round;
        const int loser = results[0] ? 1 : 0;
        EXPECT_EQ(results[loser].error().code, StoreError::exists);
        auto row = other->latest_attempt(1, file).value();
        ASSERT_TRUE(row);
        EXPECT_EQ(row->created_s, 10 + (1 - loser));
        EXPECT_EQ(row->attempt_no, 1);
        ASSERT_TRUE(m_store->finish_attempt(1, file, 1, AttemptState::granted, 1));
    }
    auto e = m_store->earnings(50);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->size(), static_cast<std::size_t>(kRounds));
    for (const auto& f : *e) EXPECT_EQ(f.downloads, 1u);

    std::latch start(2);
    StoreResult<void> claims[2];
    std::thread a([&] {
        start.arrive_and_wait();
        claims[0] = m_store->set_referral_code(10, "shared");
    });
    std::thread b([&] {
        start.arrive_and_wait();
        claims[1] = other->set_referral_code(11, "shared");
    });
    a.join();
    b.join();
    ASSERT_NE(static_cast<bool>(claims[0]), static_cast<bool>(claims[1]));
    EXPECT_EQ(m_store->referral_owner("shared").value(), claims[0] ? 10 : 11);
}

INSTANTIATE_TEST_SUITE_P(Backends, PaymentStoreTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

}  // namespace payment_store_test
}  // namespace
}  // namespace satload::payments
