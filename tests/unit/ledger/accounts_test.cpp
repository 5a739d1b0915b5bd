// Pins down the chart of accounts: stable, distinct ids for system accounts, wallets and
// receivables, and the operator credit transfer (refusals named), applied through a ledger.
#include "ledger/accounts.h"

#include <gtest/gtest.h>

#include <set>

#include "backends.h"
#include "ledger/ledger.h"

namespace satload::ledger {
namespace {

// Ids are deterministic per user and never collide with each other or the system accounts.
TEST(Accounts, IdsAreStableAndDistinct) {
    EXPECT_EQ(user_wallet_id("alice"), user_wallet_id("alice"));
    std::set<Id128> ids;
    for (const Account& a : system_accounts()) {
        EXPECT_EQ(validate_account(a), CreateAccountResult::ok);
        EXPECT_EQ(a.id.high, 0U);
        ids.insert(a.id);
    }
    for (const char* user : {"alice", "bob", ""}) {
        ids.insert(user_wallet_id(user));
        ids.insert(user_receivable_id(user));
        EXPECT_NE(user_wallet_id(user).high, 0U);
    }
    EXPECT_EQ(ids.size(), system_accounts().size() + 6);
    const Account w = user_wallet("alice");
    EXPECT_EQ(w.kind, AccountKind::user_wallet);
    EXPECT_EQ(w.flags, account_flags::debits_must_not_exceed_credits);
    EXPECT_EQ(w.owner, "alice");
}

// `admin credit` refuses a zero amount and an over-long reason, and otherwise moves money
// from operator_adjustments to the wallet with the reason as memo; a retry is `exists`.
TEST(Accounts, OperatorCredit) {
    const Id128 id = time_ordered_id(1'700'000'000'000'000'000, 1, 2);
    EXPECT_EQ(operator_credit(id, "alice", Msat{0}, "x").error(), CreditError::amount_zero);
    EXPECT_EQ(operator_credit(id, "alice", Msat{5}, std::string(kMemoBytesMax + 1, 'r')).error(),
              CreditError::reason_too_long);
    const auto credit = operator_credit(id, "alice", *parse_amount("1.5sat"), "refund for #42");
    ASSERT_TRUE(credit);
    EXPECT_EQ(credit->memo, "refund for #42");

    testing::Place place(testing::Backend::sqlite);
    auto ledger = place.open_ledger();
    ASSERT_TRUE(ledger);
    std::vector<Account> accounts = system_accounts();
    accounts.push_back(user_wallet("alice"));
    ASSERT_TRUE((*ledger)->create_accounts(accounts));
    EXPECT_EQ((*(*ledger)->create_transfers({*credit}))[0].result, TransferResult::ok);
    EXPECT_EQ((*(*ledger)->create_transfers({*credit}))[0].result, TransferResult::exists);
    EXPECT_EQ((*ledger)->lookup_account(user_wallet_id("alice"))->balance_msat(), 1500);
    EXPECT_EQ((*ledger)->lookup_account(kOperatorAdjustmentsId)->balance_msat(), -1500);
    const auto history = (*ledger)->history(user_wallet_id("alice"), 0, 10);
    ASSERT_TRUE(history);
    EXPECT_EQ(history->front().memo, "refund for #42");
}

}  // namespace
}  // namespace satload::ledger
