// The chain watcher against an in-process fake node (blocks built with src/chain), a real
// chain store (on SQLite and on PostgreSQL) and a real SQLite ledger: deposit addresses reused
// until paid, deposits pending below N confirmations and credited at N exactly once (also across a restart and a
// re-scan), dust ignored, reorgs that orphan an uncredited deposit or reverse a credited one
// (into the receivable with a freeze when the wallet was spent), a reorg deeper than the
// window halting the watcher, and a node outage caught up without loss or duplication.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <filesystem>
#include <map>
#include <random>

#include "chain/address.h"
#include "chain/block.h"
#include "ledger/accounts.h"
#include "ledger/checkpoint.h"
#include "ledger/sqlite_ledger_store.h"
#include "onchain/wallet.h"
#include "payments/wallet_service.h"
#include "onchain/wallet_fixture.h"

namespace satload::onchain {
namespace {

// A chain store whose first mark_credited fails (the store refused, or the process died,
// after the ledger applied the credit): everything else goes to the real store.
class MarkCreditedFailsOnce final : public ForwardingChainStore {
public:
    using ForwardingChainStore::ForwardingChainStore;
    bool failed = false;

    StoreResult<void> mark_credited(const chain::OutPoint& o) override {
        if (failed) return m_inner.mark_credited(o);
        failed = true;
        return fail(store::StoreFailure{store::StoreError::io, "injected: mark_credited lost"});
    }
};

// A user's address stays the same until an output paying it is mined; then the next index is
// handed out. Users get different addresses, each the BIP84 receive address of its index.
TEST_P(WatcherTest, AddressReusedUntilPaid) {
    sync();
    auto a1 = m_wallet->deposit_address(1);
    auto a1_again = m_wallet->deposit_address(1);
    auto b1 = m_wallet->deposit_address(2);
    ASSERT_TRUE(a1 && a1_again && b1);
    EXPECT_EQ(*a1, *a1_again);
    EXPECT_NE(*a1, *b1);
    EXPECT_EQ(*a1, m_wallet->address_at(Branch::receive, 0));
    EXPECT_EQ(*b1, m_wallet->address_at(Branch::receive, 1));
    EXPECT_EQ(a1->rfind("bcrt1q", 0), 0u);
    // Asking many times issues nothing new: the gap stays bounded.
    for (int i = 0; i < 50; ++i) ASSERT_EQ(*m_wallet->deposit_address(1), *a1);
    m_node.mine({pay(*a1, 10'000)});
    sync();
    auto a2 = m_wallet->deposit_address(1);
    ASSERT_TRUE(a2);
    EXPECT_NE(*a2, *a1);
    EXPECT_EQ(*a2, m_wallet->address_at(Branch::receive, 2));
    EXPECT_EQ(*m_wallet->deposit_address(2), *b1);  // the other user's is still unpaid
}

// An address issued before the watcher's first round (the node away at start) and paid in a
// block below the node's tip by then: the first round starts a safety window back and finds it.
TEST_P(WatcherTest, DepositBeforeFirstRoundFound) {
    const std::string addr = *m_wallet->deposit_address(12);
    m_node.mine({pay(addr, 15'000)});
    m_node.mine_empty(4);
    sync();
    auto d = deposits(12);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, "credited");
    EXPECT_EQ(d[0].confirmations, 5);
    EXPECT_EQ(balance(12), 15'000'000);
}

// Pending at 1 and 2 confirmations, credited at 3 exactly once; later rounds, a restart over
// the same files and a re-scan from scratch credit nothing again.
TEST_P(WatcherTest, CreditedAtConfirmationsExactlyOnce) {
    sync();
    const std::string addr = *m_wallet->deposit_address(7);
    m_node.mine({pay(addr, 25'000)});
    sync();
    auto d = deposits(7);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, "pending");
    EXPECT_EQ(d[0].confirmations, 1);
    EXPECT_EQ(d[0].amount_msat, 25'000'000);
    EXPECT_EQ(balance(7), 0);
    m_node.mine({});
    sync();
    EXPECT_EQ(deposits(7)[0].confirmations, 2);
    EXPECT_EQ(deposits(7)[0].status, "pending");
    EXPECT_EQ(balance(7), 0);
    m_node.mine({});
    EXPECT_EQ(sync().credited, 1);
    EXPECT_EQ(deposits(7)[0].status, "credited");
    EXPECT_EQ(balance(7), 25'000'000);
    m_node.mine_empty(3);
    EXPECT_EQ(sync().credited, 0);
    open_wallet();  // restart
    EXPECT_EQ(sync().credited, 0);
    EXPECT_EQ(balance(7), 25'000'000);
    EXPECT_EQ(m_ledger->audit().passed(), true);
}

// A crash after the ledger credited but before the store recorded it: the next round submits
// the same transfer id, which the ledger answers `exists`, so the wallet is credited once.
TEST_P(WatcherTest, CreditRetriedAfterCrashAppliesOnce) {
    sync();
    const std::string addr = *m_wallet->deposit_address(3);
    m_node.mine({pay(addr, 9'000)});
    m_node.mine_empty(2);
    sync();
    ASSERT_EQ(balance(3), 9'000'000);
    auto rows = m_store->deposits_of(3);
    ASSERT_TRUE(rows && rows->size() == 1);
    // Simulate the lost store update: back to pending with the credit count it had.
    auto& d = rows->front();
    ledger::Transfer again;
    again.id = deposit_transfer_id("deposit", d.outpoint, 0);
    again.debit_account_id = ledger::kOnchainAssetsId;
    again.credit_account_id = payments::wallet_id(3);
    again.amount_msat = 9'000'000;
    again.code = ledger::transfer_code::deposit;
    again.user_data = ledger::id_from_bytes(ByteSpan(d.outpoint.txid.data(), 16));
    again.memo = "deposit " + chain::hash_to_display_hex(d.outpoint.txid) + ":0";
    auto r = m_ledger->create_transfers({again});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at(0).result, ledger::TransferResult::exists);
    EXPECT_EQ(balance(3), 9'000'000);
}

// The ledger applied a deposit's credit but the store did not record it (mark_credited
// failed; a crash there leaves the same state), and a reorg takes the deposit's block before
// the retry. The deposit still reads pending, yet the user holds the money: the reorg must
// reverse the credit (reversed, the wallet back to zero), not orphan the deposit and leave the
// user money that no coins back. A later round books nothing twice.
TEST_P(WatcherTest, ReorgReversesCreditTheStoreDidNotRecord) {
    MarkCreditedFailsOnce store(*m_store);
    OnchainWallet wallet(store, m_node, *m_ledger,
                         account_key(m_entropy, chain::network_params(chain::Network::regtest)),
                         OnchainOptions{});
    wallet.set_freeze_hook([this](AccountId a, const std::string& why) { m_frozen[a] = why; });
    wallet.set_alert_hook([this](const std::string& line) { m_alerts.push_back(line); });
    ASSERT_TRUE(wallet.sync_once());
    const std::string addr = *wallet.deposit_address(14);
    const std::int64_t before = m_node.height();
    m_node.mine({pay(addr, 35'000)});
    m_node.mine_empty(2);
    auto lost = wallet.sync_once();
    ASSERT_FALSE(lost);
    ASSERT_TRUE(store.failed);
    EXPECT_EQ(lost.error().code, OnchainError::store);
    ASSERT_EQ(balance(14), 35'000'000);               // the ledger's credit committed
    ASSERT_EQ(deposits(14).at(0).status, "pending");  // the store never heard of it
    m_node.rewind_to(before);
    m_node.mine_empty(4);  // a longer branch without the deposit
    auto retried = wallet.sync_once();
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_EQ(retried->disconnected, 3);
    EXPECT_EQ(retried->reversed, 1);
    auto d = deposits(14);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, "reversed");
    EXPECT_EQ(balance(14), 0);
    EXPECT_TRUE(m_frozen.empty());
    auto rows = m_store->deposits_of(14);
    ASSERT_TRUE(rows && rows->size() == 1);
    EXPECT_EQ(rows->at(0).credits, 1);
    EXPECT_EQ(rows->at(0).reversed_msat, 35'000'000);
    m_node.mine_empty(1);
    auto again = wallet.sync_once();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->reversed, 0);
    EXPECT_EQ(balance(14), 0);
    EXPECT_TRUE(m_ledger->audit().passed());
    EXPECT_TRUE(wallet.audit_deposits().passed) << wallet.audit_deposits().detail;
}

// The audit's chain_deposits check compares the deposit records with the ledger: it passes
// while they agree, and fails on a record that counts a credit the ledger lacks, and on a
// ledger credit of a deposit whose record (orphaned) counts none.
TEST_P(WatcherTest, DepositAuditComparesTheRecordsWithTheLedger) {
    sync();
    const std::string a = *m_wallet->deposit_address(30);
    m_node.mine({pay(a, 25'000, 1)});
    m_node.mine_empty(2);
    sync();
    ASSERT_EQ(balance(30), 25'000'000);
    auto ok = m_wallet->audit_deposits();
    EXPECT_EQ(ok.name, "chain_deposits");
    EXPECT_TRUE(ok.passed) << ok.detail;
    EXPECT_NE(ok.detail.find("1 deposit records, 1 credits"), std::string::npos) << ok.detail;

    // A record that says credited, with no credit in the ledger.
    const std::string b = *m_wallet->deposit_address(31);
    const auto tx_b = pay(b, 26'000, 2);
    m_node.mine({tx_b});
    sync();
    const auto pending = m_store->deposits_of(31).value().at(0);
    ASSERT_EQ(pending.status, DepositStatus::pending);
    ASSERT_TRUE(m_store->mark_credited(pending.outpoint));
    auto missing = m_wallet->audit_deposits();
    EXPECT_FALSE(missing.passed);
    EXPECT_NE(missing.detail.find("credit 0 is not in the ledger"), std::string::npos)
        << missing.detail;
}

TEST_P(WatcherTest, DepositAuditFindsACreditOfAnOrphanedDeposit) {
    sync();
    const std::string addr = *m_wallet->deposit_address(32);
    const std::int64_t before = m_node.height();
    m_node.mine({pay(addr, 27'000, 3)});
    sync();
    m_node.rewind_to(before);
    m_node.mine_empty(3);
    sync();
    const auto orphaned = m_store->deposits_of(32).value().at(0);
    ASSERT_EQ(orphaned.status, DepositStatus::orphaned);
    EXPECT_TRUE(m_wallet->audit_deposits().passed);
    // The ledger credits it anyway (what a lost record used to leave behind).
    ASSERT_TRUE(m_ledger->create_accounts({ledger::user_wallet(payments::wallet_user_id(32))}));
    ledger::Transfer t;
    t.id = deposit_transfer_id("deposit", orphaned.outpoint, 0);
    t.debit_account_id = ledger::kOnchainAssetsId;
    t.credit_account_id = ledger::user_wallet_id(payments::wallet_user_id(32));
    t.amount_msat = 27'000'000;
    t.code = ledger::transfer_code::deposit;
    auto applied = m_ledger->create_transfers({t});
    ASSERT_TRUE(applied && ledger::applied(applied->at(0).result));
    auto found = m_wallet->audit_deposits();
    EXPECT_FALSE(found.passed);
    EXPECT_NE(found.detail.find("the ledger holds a credit the record does not count"),
              std::string::npos)
        << found.detail;
}

// Outputs below the dust threshold are neither deposits nor coins; a deposit of exactly the
// threshold counts.
TEST_P(WatcherTest, DustIgnored) {
    sync();
    const std::string addr = *m_wallet->deposit_address(4);
    m_node.mine({pay(addr, kMinDepositSat - 1, 1), pay(addr, kMinDepositSat, 2)});
    m_node.mine_empty(2);
    sync();
    auto d = deposits(4);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].amount_msat, kMinDepositSat * 1000);
    EXPECT_EQ(balance(4), kMinDepositSat * 1000);
    auto coins = m_store->unspent_coins();
    ASSERT_TRUE(coins);
    EXPECT_EQ(coins->size(), 1u);
}

// A reorg that removes the block of an uncredited deposit un-pends it (orphaned, 0
// confirmations); when the deposit is mined again on the new branch it is pending again and
// credited at N confirmations, once.
TEST_P(WatcherTest, ReorgOrphansUncreditedDeposit) {
    sync();
    const std::string addr = *m_wallet->deposit_address(5);
    const auto tx = pay(addr, 30'000);
    const std::int64_t before = m_node.height();
    m_node.mine({tx});
    m_node.mine({});
    sync();
    ASSERT_EQ(deposits(5)[0].status, "pending");
    m_node.rewind_to(before);
    m_node.mine_empty(3);  // a longer branch without the deposit
    const auto r = sync();
    EXPECT_EQ(r.disconnected, 2);
    auto d = deposits(5);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, "orphaned");
    EXPECT_EQ(d[0].confirmations, 0);
    EXPECT_EQ(balance(5), 0);
    m_node.mine({tx});
    sync();
    EXPECT_EQ(deposits(5)[0].status, "pending");
    m_node.mine_empty(2);
    EXPECT_EQ(sync().credited, 1);
    EXPECT_EQ(balance(5), 30'000'000);
    EXPECT_TRUE(m_ledger->audit().passed());
    EXPECT_TRUE(m_wallet->audit_deposits().passed) << m_wallet->audit_deposits().detail;
}

// A reorg that takes back a credited deposit the wallet still holds: the reversal takes it
// from the wallet, nothing is owed, nobody is frozen, and the record says reversed.
TEST_P(WatcherTest, ReorgReversesCreditedDeposit) {
    sync();
    const std::string addr = *m_wallet->deposit_address(6);
    const std::int64_t before = m_node.height();
    m_node.mine({pay(addr, 40'000)});
    m_node.mine_empty(3);
    sync();
    ASSERT_EQ(balance(6), 40'000'000);
    m_node.rewind_to(before);
    m_node.mine_empty(5);
    sync();
    auto d = deposits(6);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, "reversed");
    EXPECT_EQ(balance(6), 0);
    EXPECT_TRUE(m_frozen.empty());
    const auto receivable = m_ledger->lookup_account(ledger::user_receivable_id(payments::wallet_user_id(6)));
    EXPECT_FALSE(receivable.has_value() && receivable->debits_posted_msat > 0);
    bool alerted = false;
    for (const auto& line : m_alerts) alerted = alerted || line.find("ALERT") != std::string::npos;
    EXPECT_TRUE(alerted);
    EXPECT_TRUE(m_ledger->audit().passed());
    EXPECT_TRUE(m_wallet->audit_deposits().passed) << m_wallet->audit_deposits().detail;
}

// The wallet spent part of a deposit a reorg takes back: the wallet goes to zero (never
// below), the rest is owed in the receivable account, the freeze hook is called, and a second
// round books nothing twice.
TEST_P(WatcherTest, ReorgShortfallGoesToReceivableAndFreezes) {
    sync();
    const std::string addr = *m_wallet->deposit_address(8);
    const std::int64_t before = m_node.height();
    m_node.mine({pay(addr, 50'000)});
    m_node.mine_empty(2);
    sync();
    ASSERT_EQ(balance(8), 50'000'000);
    // The user pays 30,000 sat away.
    ledger::Transfer spend;
    spend.id = ledger::Id128{99, 1};
    spend.debit_account_id = payments::wallet_id(8);
    spend.credit_account_id = ledger::kPlatformRevenueId;
    spend.amount_msat = 30'000'000;
    spend.code = ledger::transfer_code::download_payment;
    ASSERT_EQ(m_ledger->create_transfers({spend})->at(0).result, ledger::TransferResult::ok);
    m_node.rewind_to(before);
    m_node.mine_empty(4);
    sync();
    EXPECT_EQ(balance(8), 0);
    const auto receivable = m_ledger->lookup_account(ledger::user_receivable_id(payments::wallet_user_id(8)));
    ASSERT_TRUE(receivable);
    EXPECT_EQ(receivable->debits_posted_msat - receivable->credits_posted_msat, 30'000'000);
    ASSERT_EQ(m_frozen.count(8), 1u);
    EXPECT_NE(m_frozen[8].find("receivable"), std::string::npos);
    m_node.mine_empty(1);
    sync();
    EXPECT_EQ(m_ledger->lookup_account(ledger::user_receivable_id(payments::wallet_user_id(8)))->debits_posted_msat,
              30'000'000);
    auto rows = m_store->deposits_of(8);
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->at(0).reversed_msat, 20'000'000);
    EXPECT_EQ(rows->at(0).receivable_msat, 30'000'000);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A reorg deeper than the safety window halts the watcher loudly: nothing is disconnected or
// reversed, and every later round refuses until an operator acts.
TEST_P(WatcherTest, DeepReorgHalts) {
    OnchainOptions o;
    o.safety_window_blocks = 3;
    open_wallet(o);
    sync();
    const std::string addr = *m_wallet->deposit_address(9);
    const std::int64_t before = m_node.height();
    m_node.mine({pay(addr, 20'000)});
    m_node.mine_empty(5);
    sync();
    ASSERT_EQ(balance(9), 20'000'000);
    m_node.rewind_to(before);
    m_node.mine_empty(8);
    auto r = m_wallet->sync_once();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, OnchainError::halted);
    EXPECT_TRUE(m_wallet->halted());
    EXPECT_EQ(balance(9), 20'000'000);
    EXPECT_EQ(deposits(9)[0].status, "credited");
    bool loud = false;
    for (const auto& line : m_alerts) loud = loud || line.find("HALTED") != std::string::npos;
    EXPECT_TRUE(loud);
    EXPECT_EQ(m_wallet->sync_once().error().code, OnchainError::halted);
}

// The node goes away for a while (every call fails): rounds fail with `node`, nothing is
// lost; when it is back, the watcher catches up over everything mined meanwhile and credits
// each deposit once.
TEST_P(WatcherTest, NodeOutageCaughtUp) {
    sync();
    const std::string a = *m_wallet->deposit_address(10);
    m_node.mine({pay(a, 11'000)});
    sync();
    m_node.away = true;
    m_node.mine_empty(2);
    const std::string b_addr = *m_wallet->deposit_address(11);
    m_node.mine({pay(b_addr, 12'000)});
    m_node.mine_empty(4);
    for (int i = 0; i < 3; ++i) {
        auto r = m_wallet->sync_once();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, OnchainError::node);
    }
    m_node.away = false;
    const auto r = sync();
    EXPECT_EQ(r.credited, 2);
    EXPECT_EQ(balance(10), 11'000'000);
    EXPECT_EQ(balance(11), 12'000'000);
    EXPECT_EQ(sync().credited, 0);
}

// With a lease (several instances on one database), the watcher thread follows the node only
// while it holds it: nothing is credited while another holds it, the deposit is credited soon
// after this one takes over, and each change of hands is said once.
TEST_P(WatcherTest, WatcherThreadFollowsOnlyWithTheLease) {
    std::atomic<bool> holds{false};
    OnchainOptions options;
    options.poll_interval = std::chrono::milliseconds(10);
    open_wallet(options);
    m_wallet->set_lease([&holds] { return holds.load(); });
    const std::string addr = *m_wallet->deposit_address(13);
    m_node.mine({pay(addr, 16'000)});
    m_node.mine_empty(4);
    m_wallet->start();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(m_wallet->tip_height(), -1);
    EXPECT_EQ(balance(13), 0);
    holds = true;
    for (int i = 0; i < 500 && balance(13) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(balance(13), 16'000'000);
    holds = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    m_wallet->stop();
    const auto said = [&](std::string_view what) {
        return std::count_if(m_alerts.begin(), m_alerts.end(),
                             [&](const std::string& line) { return line.find(what) != std::string::npos; });
    };
    EXPECT_EQ(said("holds the watcher lease"), 1);
    EXPECT_EQ(said("another instance follows"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, WatcherTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

}  // namespace
}  // namespace satload::onchain
