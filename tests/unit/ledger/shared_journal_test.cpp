// Several processes writing one PostgreSQL ledger (every `serve --db` instance has its own
// Ledger on the same schema, with its checkpoint in its own data directory): each batch runs
// under the journal's lock and starts from the other writers' entries, so idempotency ids
// apply once across writers, no balance goes below zero, the journal stays one chain and the
// audit passes; an idle writer sees the others' commits within its refresh interval.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "backends.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"

namespace satload::ledger {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace shared_journal_test {

using testing::Backend;
using testing::Place;
using R = TransferResult;

Id128 account_id(std::uint64_t n) { return Id128{0x5a, n}; }

Account wallet(std::uint64_t n) {
    Account a;
    a.id = account_id(n);
    a.kind = AccountKind::user_wallet;
    a.flags = account_flags::debits_must_not_exceed_credits;
    a.owner = "user" + std::to_string(n);
    return a;
}

Transfer xfer(std::uint64_t n, std::uint64_t debit, std::uint64_t credit, std::int64_t amount) {
    Transfer t;
    t.id = Id128{0x5b, n};
    t.debit_account_id = account_id(debit);
    t.credit_account_id = account_id(credit);
    t.amount_msat = amount;
    t.code = transfer_code::adjustment;
    return t;
}

constexpr std::uint64_t kAssets = 100;
constexpr int kPayers = 8;
constexpr std::int64_t kFunds = 50;  // each payer can pay 50 of its 80 attempts

class SharedJournal : public ::testing::Test {
protected:
    void SetUp() override {
        SATLOAD_REQUIRE_BACKEND(Backend::postgres);
        first = std::make_unique<Place>(Backend::postgres);
        // The second process: the same schema, its own directory for the checkpoint.
        second_dir = first->dir() / "second";
        std::filesystem::create_directories(second_dir);
        second = std::make_unique<Place>(Backend::postgres, second_dir, first->url(), first->schema());
        auto a = first->open_ledger();
        ASSERT_TRUE(a) << a.error().message;
        auto b = second->open_ledger();
        ASSERT_TRUE(b) << b.error().message;
        ledger_a = std::move(*a);
        ledger_b = std::move(*b);
        std::vector<Account> accounts;
        Account assets;
        assets.id = account_id(kAssets);
        assets.kind = AccountKind::onchain_assets;
        accounts.push_back(assets);
        for (int p = 1; p <= kPayers + 1; ++p) accounts.push_back(wallet(static_cast<std::uint64_t>(p)));
        // Both processes create the same accounts: one creates, the other finds them.
        const auto made_a = ledger_a->create_accounts(accounts);
        const auto made_b = ledger_b->create_accounts(accounts);
        ASSERT_TRUE(made_a && made_b);
        for (std::size_t i = 0; i < accounts.size(); ++i) {
            EXPECT_EQ((*made_a)[i].result, CreateAccountResult::ok);
            EXPECT_EQ((*made_b)[i].result, CreateAccountResult::exists);
        }
    }

    std::unique_ptr<Place> first;
    std::unique_ptr<Place> second;
    std::filesystem::path second_dir;
    std::unique_ptr<Ledger> ledger_a;
    std::unique_ptr<Ledger> ledger_b;
};

// Payers fund their wallets through one process and pay through both at once, every payment
// sent to both processes under the same id: each id applies exactly once, no wallet pays more
// than it holds, and both processes end with the same balances and a passing audit.
TEST_F(SharedJournal, TwoWritersApplyEachIdOnceAndStayBalanced) {
    for (int p = 1; p <= kPayers; ++p) {
        const auto r = ledger_a->create_transfers({xfer(static_cast<std::uint64_t>(p), kAssets,
                                                        static_cast<std::uint64_t>(p), kFunds)});
        ASSERT_TRUE(r);
        ASSERT_EQ((*r)[0].result, R::ok);
    }
    constexpr int kAttempts = 80;  // per payer, 1 msat each to the shared payee
    std::atomic<int> applied{0};
    std::atomic<int> refused{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int p = 1; p <= kPayers; ++p) {
        for (Ledger* ledger : {ledger_a.get(), ledger_b.get()}) {
            threads.emplace_back([&, p, ledger] {
                for (int i = 0; i < kAttempts; ++i) {
                    const std::uint64_t n = 1'000 + static_cast<std::uint64_t>(p) * 1'000 + static_cast<std::uint64_t>(i);
                    const auto r = ledger->create_transfers({xfer(n, static_cast<std::uint64_t>(p), kPayers + 1, 1)});
                    if (!r) {
                        ++errors;
                        continue;
                    }
                    const R result = (*r)[0].result;
                    if (result == R::ok) ++applied;
                    else if (result == R::exceeds_credits) ++refused;
                    else if (result != R::exists) ++errors;
                }
            });
        }
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    // Each payer's 80 ids: 50 applied (once, by whichever process came first), 30 refused.
    EXPECT_EQ(applied.load(), kPayers * kFunds);
    std::this_thread::sleep_for(kSharedJournalRefresh * 3);  // both see every commit
    for (Ledger* ledger : {ledger_a.get(), ledger_b.get()}) {
        for (int p = 1; p <= kPayers; ++p) {
            const auto a = ledger->lookup_account(account_id(static_cast<std::uint64_t>(p)));
            ASSERT_TRUE(a);
            EXPECT_EQ(a->credits_posted_msat - a->debits_posted_msat, 0) << "payer " << p;
        }
        const auto payee = ledger->lookup_account(account_id(kPayers + 1));
        ASSERT_TRUE(payee);
        EXPECT_EQ(payee->credits_posted_msat, kPayers * kFunds);
        const AuditReport report = ledger->audit();
        EXPECT_TRUE(report.passed()) << report.text();
    }
}

// An idle process picks up another's commit within its refresh interval, without writing.
TEST_F(SharedJournal, IdleWriterSeesOtherCommits) {
    const auto r = ledger_a->create_transfers({xfer(7, kAssets, 1, 123)});
    ASSERT_TRUE(r);
    ASSERT_EQ((*r)[0].result, R::ok);
    std::int64_t seen = -1;
    for (int i = 0; i < 50 && seen != 123; ++i) {
        std::this_thread::sleep_for(kSharedJournalRefresh / 4);
        const auto a = ledger_b->lookup_account(account_id(1));
        seen = a ? a->credits_posted_msat : -1;
    }
    EXPECT_EQ(seen, 123);
    // And it writes after it: the same id is known, a new one chains on.
    const auto again = ledger_b->create_transfers({xfer(7, kAssets, 1, 123), xfer(8, 1, 2, 23)});
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)[0].result, R::exists);
    EXPECT_EQ((*again)[1].result, R::ok);
    EXPECT_TRUE(ledger_a->audit().passed());
}

}  // namespace shared_journal_test
}  // namespace
}  // namespace satload::ledger
