// The chain store's contract on both backends (SQLite, and PostgreSQL in a fresh schema), every
// method: blocks connected and disconnected whole (a failed connect leaves none of its effects),
// addresses unique by index and script and used once paid, deposits through credit, reorg,
// reversal plan and reversal (mined again: pending, credited anew), coins held by one
// withdrawal all or nothing and kept out of the chain while held, withdrawals listed and
// summed; and, as two server processes would use it, two instances on one database that see
// each other's writes at once and never hold one coin for two withdrawals racing for it.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "onchain/pg_chain_store.h"
#include "onchain/sqlite_chain_store.h"
#include "payments/store_backend.h"

namespace satload::onchain {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace chain_store_test {

using store::StoreError;
using store::testing::DbBackend;

class ChainStoreTest
    : public store::testing::StoreSuite<ChainStore, SqliteChainStore, PgChainStore> {};

chain::Hash256 hash(std::uint8_t tag) {
    chain::Hash256 h{};
    h.fill(tag);
    return h;
}

chain::OutPoint outpoint(std::uint8_t tag, std::uint32_t vout = 0) {
    return chain::OutPoint{hash(tag), vout};
}

AddressRecord address(Branch branch, std::uint32_t index, std::optional<AccountId> account) {
    AddressRecord a;
    a.branch = branch;
    a.index = index;
    a.account = account;
    a.script =
        Bytes{0x00, 0x14, static_cast<std::uint8_t>(branch), static_cast<std::uint8_t>(index)};
    return a;
}

BlockEffects block(std::int64_t height) {
    BlockEffects e;
    e.block = BlockRecord{height, hash(static_cast<std::uint8_t>(0xb0 + height)),
                          hash(static_cast<std::uint8_t>(0xb0 + height - 1))};
    return e;
}

void pay(BlockEffects& e, const chain::OutPoint& o, std::int64_t value, const AddressRecord& a,
         bool deposit) {
    e.outputs.push_back(BlockEffects::Output{o, value, a, deposit});
}

WithdrawalRecord withdrawal(const std::string& id, AccountId account, std::int64_t amount,
                            std::int64_t created_s, std::string status = "broadcast") {
    WithdrawalRecord w;
    w.id = id;
    w.account = account;
    w.address = "bcrt1qexample";
    w.amount_sat = amount;
    w.fee_sat = 141;
    w.status = std::move(status);
    w.txid = hash(0xee);
    w.raw_tx = Bytes{0x02, 0x00, 0x00, 0x00, 0xab};
    w.created_s = created_s;
    return w;
}

// Blocks: the tip and each height read back; a second block at a height is `exists` and none
// of its effects (coin, used address, deposit) remain; disconnecting undoes the spends at that
// height, drops the coins and deposits' heights, and the tip falls back.
TEST_P(ChainStoreTest, BlocksConnectAndDisconnectWhole) {
    EXPECT_FALSE(m_store->tip().value().has_value());
    const AddressRecord receive = address(Branch::receive, 0, 5);
    const AddressRecord change = address(Branch::change, 0, std::nullopt);
    const AddressRecord later = address(Branch::receive, 1, 6);
    for (const auto& a : {receive, change, later}) ASSERT_TRUE(m_store->insert_address(a));

    BlockEffects b0 = block(0);
    pay(b0, outpoint(1), 10'000, receive, true);
    pay(b0, outpoint(2, 1), 20'000, change, false);
    ASSERT_TRUE(m_store->connect_block(b0));
    BlockEffects b1 = block(1);
    b1.spends.push_back(BlockEffects::Spend{outpoint(2, 1), hash(0x33)});
    ASSERT_TRUE(m_store->connect_block(b1));

    auto tip = m_store->tip().value();
    ASSERT_TRUE(tip);
    EXPECT_EQ(tip->height, 1);
    EXPECT_EQ(tip->hash, b1.block.hash);
    EXPECT_EQ(tip->parent, b1.block.parent);
    EXPECT_EQ(m_store->block_at(0).value()->hash, b0.block.hash);
    EXPECT_FALSE(m_store->block_at(2).value().has_value());

    BlockEffects clash = block(1);
    clash.block.hash = hash(0x77);
    pay(clash, outpoint(9), 5'000, later, true);
    auto refused = m_store->connect_block(clash);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, StoreError::exists);
    EXPECT_EQ(m_store->tip().value()->hash, b1.block.hash);
    EXPECT_FALSE(m_store->address_by_script(later.script).value()->used);
    EXPECT_TRUE(m_store->deposits_of(6).value().empty());
    EXPECT_EQ(m_store->unspent_coins().value().size(), 1u);  // the deposit's; the change is spent

    auto undone = m_store->disconnect_block(1);
    ASSERT_TRUE(undone);
    EXPECT_TRUE(undone->orphaned.empty() && undone->reversing.empty());
    auto coins = m_store->unspent_coins().value();
    ASSERT_EQ(coins.size(), 2u);
    EXPECT_EQ(coins[0].outpoint, outpoint(1));
    EXPECT_EQ(coins[1].outpoint, outpoint(2, 1));
    EXPECT_FALSE(coins[1].spent_by.has_value());
    EXPECT_EQ(coins[1].value_sat, 20'000);
    EXPECT_EQ(coins[1].branch, Branch::change);
    EXPECT_EQ(coins[1].index, 0u);
    EXPECT_EQ(coins[1].height, 0);
    EXPECT_EQ(m_store->tip().value()->height, 0);

    auto orphaning = m_store->disconnect_block(0);
    ASSERT_TRUE(orphaning);
    ASSERT_EQ(orphaning->orphaned.size(), 1u);
    EXPECT_EQ(orphaning->orphaned[0].outpoint, outpoint(1));
    EXPECT_EQ(orphaning->orphaned[0].status, DepositStatus::orphaned);
    EXPECT_TRUE(m_store->unspent_coins().value().empty());
    EXPECT_FALSE(m_store->tip().value().has_value());
    auto d = m_store->deposits_of(5).value();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, DepositStatus::orphaned);
    EXPECT_FALSE(d[0].height.has_value());
}

// Addresses: the next index per branch, an index or a script taken is `exists`; a user's
// unused address is their newest unpaid one, and an output paying it marks it used.
TEST_P(ChainStoreTest, AddressesAreUniqueAndUsedOncePaid) {
    EXPECT_EQ(m_store->next_index(Branch::receive).value(), 0u);
    ASSERT_TRUE(m_store->insert_address(address(Branch::receive, 0, 1)));
    ASSERT_TRUE(m_store->insert_address(address(Branch::receive, 1, 1)));
    ASSERT_TRUE(m_store->insert_address(address(Branch::receive, 2, 2)));
    ASSERT_TRUE(m_store->insert_address(address(Branch::change, 0, std::nullopt)));
    EXPECT_EQ(m_store->next_index(Branch::receive).value(), 3u);
    EXPECT_EQ(m_store->next_index(Branch::change).value(), 1u);

    auto same_index = m_store->insert_address(address(Branch::receive, 1, 3));
    ASSERT_FALSE(same_index);
    EXPECT_EQ(same_index.error().code, StoreError::exists);
    AddressRecord same_script = address(Branch::receive, 7, 3);
    same_script.script = address(Branch::receive, 0, 1).script;
    auto taken = m_store->insert_address(same_script);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, StoreError::exists);

    auto found =
        m_store->address_by_script(address(Branch::change, 0, std::nullopt).script).value();
    ASSERT_TRUE(found);
    EXPECT_EQ(found->branch, Branch::change);
    EXPECT_EQ(found->index, 0u);
    EXPECT_FALSE(found->account.has_value());
    EXPECT_FALSE(found->used);
    EXPECT_FALSE(m_store->address_by_script(Bytes{0x51}).value().has_value());

    EXPECT_EQ(m_store->unused_address(1).value()->index, 1u);
    BlockEffects b = block(0);
    pay(b, outpoint(1), 1'000, address(Branch::receive, 1, 1), true);
    ASSERT_TRUE(m_store->connect_block(b));
    EXPECT_TRUE(m_store->address_by_script(address(Branch::receive, 1, 1).script).value()->used);
    EXPECT_EQ(m_store->unused_address(1).value()->index, 0u);
    EXPECT_EQ(m_store->unused_address(1).value()->account, 1);
    EXPECT_FALSE(m_store->unused_address(4).value().has_value());
}

// A deposit's life: pending in its block, credited once, taken by a reorg (reversing), its
// reversal planned, re-planned and booked (reversed, the sums kept); mined again it is
// pending and credited anew (credits 2). One reorged before its reversal is booked but mined
// again meanwhile ends pending when the reversal is booked. Listed by status and by user.
TEST_P(ChainStoreTest, DepositsThroughCreditReorgAndReversal) {
    const AddressRecord a = address(Branch::receive, 0, 7);
    ASSERT_TRUE(m_store->insert_address(a));
    BlockEffects b0 = block(0);
    pay(b0, outpoint(1), 10'000, a, true);
    pay(b0, outpoint(2), 600, a, false);  // below dust: a coin, not a deposit
    ASSERT_TRUE(m_store->connect_block(b0));
    auto d = m_store->deposits_of(7).value();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, DepositStatus::pending);
    EXPECT_EQ(d[0].height, 0);
    EXPECT_EQ(d[0].amount_sat, 10'000);
    EXPECT_EQ(d[0].account, 7);

    ASSERT_TRUE(m_store->mark_credited(outpoint(1)));
    auto twice = m_store->mark_credited(outpoint(1));
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, StoreError::not_found);
    EXPECT_EQ(m_store->deposits_with_status(DepositStatus::credited).value().size(), 1u);

    auto undone = m_store->disconnect_block(0);
    ASSERT_TRUE(undone);
    ASSERT_EQ(undone->reversing.size(), 1u);
    EXPECT_EQ(undone->reversing[0].credits, 1);
    ASSERT_TRUE(m_store->set_reversal_plan(outpoint(1), ReversalPlan{7'000'000, 3'000'000}, 1));
    auto planned = m_store->deposits_with_status(DepositStatus::reversing).value();
    ASSERT_EQ(planned.size(), 1u);
    ASSERT_TRUE(planned[0].plan);
    EXPECT_EQ(planned[0].plan->wallet_msat, 7'000'000);
    EXPECT_EQ(planned[0].plan->receivable_msat, 3'000'000);
    EXPECT_EQ(planned[0].plan_attempt, 1);
    ASSERT_TRUE(m_store->set_reversal_plan(outpoint(1), std::nullopt, 2));
    planned = m_store->deposits_with_status(DepositStatus::reversing).value();
    EXPECT_FALSE(planned[0].plan.has_value());
    EXPECT_EQ(planned[0].plan_attempt, 2);

    ASSERT_TRUE(m_store->mark_reversed(outpoint(1), 7'000'000, 3'000'000));
    d = m_store->deposits_of(7).value();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].status, DepositStatus::reversed);
    EXPECT_EQ(d[0].reversed_msat, 7'000'000);
    EXPECT_EQ(d[0].receivable_msat, 3'000'000);
    EXPECT_EQ(d[0].plan_attempt, 0);
    EXPECT_FALSE(d[0].plan.has_value());

    BlockEffects again = block(0);
    again.block.hash = hash(0x99);
    pay(again, outpoint(1), 10'000, a, true);
    ASSERT_TRUE(m_store->connect_block(again));
    d = m_store->deposits_of(7).value();
    EXPECT_EQ(d[0].status, DepositStatus::pending);
    EXPECT_EQ(d[0].height, 0);
    ASSERT_TRUE(m_store->mark_credited(outpoint(1)));
    EXPECT_EQ(m_store->deposits_of(7).value()[0].credits, 2);

    // Reorged while credited, mined again before the reversal is booked: pending afterwards.
    ASSERT_TRUE(m_store->disconnect_block(0));
    BlockEffects third = block(0);
    third.block.hash = hash(0x98);
    pay(third, outpoint(1), 10'000, a, true);
    ASSERT_TRUE(m_store->connect_block(third));
    EXPECT_EQ(m_store->deposits_of(7).value()[0].status, DepositStatus::reversing);
    ASSERT_TRUE(m_store->mark_reversed(outpoint(1), 1'000, 0));
    d = m_store->deposits_of(7).value();
    EXPECT_EQ(d[0].status, DepositStatus::pending);
    EXPECT_EQ(d[0].reversed_msat, 7'001'000);
}

// Deposits by user: out of the chain first, then the highest block first, then by outpoint;
// by status: out of the chain first, then by height.
TEST_P(ChainStoreTest, DepositListsAreOrdered) {
    const AddressRecord a = address(Branch::receive, 0, 7);
    ASSERT_TRUE(m_store->insert_address(a));
    for (std::int64_t h = 0; h < 3; ++h) {
        BlockEffects b = block(h);
        pay(b, outpoint(static_cast<std::uint8_t>(10 - h)), 1'000 + h, a, true);
        if (h == 1) pay(b, outpoint(2), 5'000, a, true);
        ASSERT_TRUE(m_store->connect_block(b));
    }
    ASSERT_TRUE(m_store->disconnect_block(2));  // outpoint(8) orphaned, no height
    const auto by_user = m_store->deposits_of(7).value();
    ASSERT_EQ(by_user.size(), 4u);
    EXPECT_EQ(by_user[0].outpoint, outpoint(8));
    EXPECT_EQ(by_user[1].outpoint, outpoint(2));  // height 1, smaller txid first
    EXPECT_EQ(by_user[2].outpoint, outpoint(9));
    EXPECT_EQ(by_user[3].outpoint, outpoint(10));
    const auto pending = m_store->deposits_with_status(DepositStatus::pending).value();
    ASSERT_EQ(pending.size(), 3u);
    EXPECT_EQ(pending[0].height, 0);
    EXPECT_EQ(pending[2].height, 1);
    EXPECT_EQ(m_store->deposits_with_status(DepositStatus::orphaned).value().size(), 1u);
    EXPECT_TRUE(m_store->deposits_with_status(DepositStatus::reversed).value().empty());
}

// Withdrawals hold their coins all or nothing: one wanting a coin already held (or spent) is
// `exists` and leaves no trace; deleting one releases its coins; a held coin a reorg takes
// stays, out of the chain (-1), until mined again. Listing and the daily sum (voided and
// awaiting approval excluded) follow the records.
TEST_P(ChainStoreTest, WithdrawalsHoldCoinsAllOrNothing) {
    const AddressRecord a = address(Branch::receive, 0, 1);
    ASSERT_TRUE(m_store->insert_address(a));
    BlockEffects b0 = block(0);
    for (std::uint8_t t = 1; t <= 4; ++t) pay(b0, outpoint(t), 10'000 * t, a, false);
    ASSERT_TRUE(m_store->connect_block(b0));
    BlockEffects b1 = block(1);
    b1.spends.push_back(BlockEffects::Spend{outpoint(4), hash(0x44)});
    ASSERT_TRUE(m_store->connect_block(b1));

    ASSERT_TRUE(
        m_store->insert_withdrawal(withdrawal("w1", 1, 5'000, 100), {outpoint(1), outpoint(2)}));
    auto clash =
        m_store->insert_withdrawal(withdrawal("w2", 1, 6'000, 101), {outpoint(3), outpoint(2)});
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, StoreError::exists);
    EXPECT_FALSE(m_store->withdrawal("w2").value().has_value());
    auto spent = m_store->insert_withdrawal(withdrawal("w2", 1, 6'000, 101), {outpoint(4)});
    ASSERT_FALSE(spent);
    EXPECT_EQ(spent.error().code, StoreError::exists);
    auto same_id = m_store->insert_withdrawal(withdrawal("w1", 1, 6'000, 101), {outpoint(3)});
    ASSERT_FALSE(same_id);
    EXPECT_EQ(same_id.error().code, StoreError::exists);
    EXPECT_TRUE(m_store->coins_of_withdrawal("w2").value().empty());
    EXPECT_FALSE(m_store->unspent_coins().value()[2].reserved_by.has_value());  // outpoint(3)
    ASSERT_TRUE(m_store->insert_withdrawal(withdrawal("w2", 1, 6'000, 101, "awaiting_approval"),
                                           {outpoint(3)}));
    ASSERT_TRUE(m_store->insert_withdrawal(withdrawal("w0", 2, 7'000, 50), {}));

    auto held = m_store->coins_of_withdrawal("w1").value();
    ASSERT_EQ(held.size(), 2u);
    EXPECT_EQ(held[0].reserved_by, "w1");
    const auto w1 = m_store->withdrawal("w1").value();
    ASSERT_TRUE(w1);
    EXPECT_EQ(w1->account, 1);
    EXPECT_EQ(w1->address, "bcrt1qexample");
    EXPECT_EQ(w1->amount_sat, 5'000);
    EXPECT_EQ(w1->fee_sat, 141);
    EXPECT_EQ(w1->status, "broadcast");
    EXPECT_EQ(w1->txid, hash(0xee));
    EXPECT_EQ(w1->raw_tx, (Bytes{0x02, 0x00, 0x00, 0x00, 0xab}));
    EXPECT_EQ(w1->created_s, 100);

    EXPECT_EQ(m_store->withdrawn_since(0).value(), 5'000 + 7'000);
    EXPECT_EQ(m_store->withdrawn_since(60).value(), 5'000);
    EXPECT_TRUE(m_store->set_withdrawal_status("w1", "broadcast", "voided").value());
    EXPECT_EQ(m_store->withdrawn_since(60).value(), 0);
    // Moved only from the status named: a second move from broadcast finds it voided.
    EXPECT_FALSE(m_store->set_withdrawal_status("w1", "broadcast", "confirmed").value());
    EXPECT_EQ(m_store->withdrawal("w1").value()->status, "voided");
    EXPECT_TRUE(m_store->set_withdrawal_status("w1", "voided", "confirmed").value());
    const auto mine = m_store->withdrawals_of(1).value();
    ASSERT_EQ(mine.size(), 2u);
    EXPECT_EQ(mine[0].id, "w2");  // newest first
    EXPECT_EQ(mine[1].id, "w1");
    EXPECT_EQ(m_store->withdrawals_with_status("confirmed").value().size(), 1u);
    const auto waiting = m_store->withdrawals_with_status("awaiting_approval").value();
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(waiting[0].id, "w2");

    // The block holding the coins goes: held ones stay out of the chain, the other goes.
    ASSERT_TRUE(m_store->disconnect_block(1));
    ASSERT_TRUE(m_store->disconnect_block(0));
    auto out_of_chain = m_store->coins_of_withdrawal("w1").value();
    ASSERT_EQ(out_of_chain.size(), 2u);
    EXPECT_EQ(out_of_chain[0].height, -1);
    EXPECT_EQ(m_store->unspent_coins().value().size(), 3u);  // w1's two and w2's one
    ASSERT_TRUE(m_store->connect_block(b0));
    EXPECT_EQ(m_store->coins_of_withdrawal("w1").value()[0].height, 0);
    EXPECT_EQ(m_store->coins_of_withdrawal("w1").value()[0].reserved_by, "w1");

    // Only a withdrawal still reserving is dropped: w1 (confirmed) keeps its row and coins.
    EXPECT_FALSE(m_store->delete_withdrawal("w1").value());
    EXPECT_EQ(m_store->coins_of_withdrawal("w1").value().size(), 2u);
    ASSERT_TRUE(m_store->set_withdrawal_status("w1", "confirmed", "reserving").value());
    EXPECT_TRUE(m_store->delete_withdrawal("w1").value());
    EXPECT_FALSE(m_store->withdrawal("w1").value().has_value());
    EXPECT_TRUE(m_store->coins_of_withdrawal("w1").value().empty());
    ASSERT_TRUE(
        m_store->insert_withdrawal(withdrawal("w3", 1, 1'000, 200), {outpoint(1), outpoint(2)}));
}

// An account's request key names one withdrawal: a second insert under it is `exists` and holds
// no coin; another account may use the same key; withdrawals without a key do not clash.
TEST_P(ChainStoreTest, RequestKeyIsUniquePerAccount) {
    const AddressRecord a = address(Branch::receive, 0, 1);
    ASSERT_TRUE(m_store->insert_address(a));
    BlockEffects b = block(0);
    for (std::uint8_t t = 1; t <= 3; ++t) pay(b, outpoint(t), 10'000, a, false);
    ASSERT_TRUE(m_store->connect_block(b));
    WithdrawalRecord first = withdrawal("w1", 1, 1'000, 10);
    first.request_key = "key-1";
    ASSERT_TRUE(m_store->insert_withdrawal(first, {outpoint(1)}));
    WithdrawalRecord again = withdrawal("w2", 1, 1'000, 11);
    again.request_key = "key-1";
    auto clash = m_store->insert_withdrawal(again, {outpoint(2)});
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, StoreError::exists);
    EXPECT_FALSE(m_store->unspent_coins().value()[1].reserved_by.has_value());
    WithdrawalRecord other_account = withdrawal("w3", 2, 1'000, 12);
    other_account.request_key = "key-1";
    ASSERT_TRUE(m_store->insert_withdrawal(other_account, {outpoint(2)}));
    ASSERT_TRUE(m_store->insert_withdrawal(withdrawal("w4", 1, 1'000, 13), {}));
    ASSERT_TRUE(m_store->insert_withdrawal(withdrawal("w5", 1, 1'000, 14), {}));

    const auto found = m_store->withdrawal_by_key(1, "key-1").value();
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "w1");
    EXPECT_EQ(found->request_key, "key-1");
    EXPECT_EQ(m_store->withdrawal_by_key(2, "key-1").value()->id, "w3");
    EXPECT_FALSE(m_store->withdrawal_by_key(1, "key-2").value().has_value());
    EXPECT_TRUE(m_store->withdrawal("w4").value()->request_key.empty());
}

// A withdrawal id with a NUL byte after a known id names nothing on either backend (on
// PostgreSQL, whose client library ends parameters at a NUL, it must not reach the row of the
// id before it); on PostgreSQL writing one is refused and holds no coin.
TEST_P(ChainStoreTest, TextWithNulNamesNothing) {
    const AddressRecord a = address(Branch::receive, 0, 1);
    ASSERT_TRUE(m_store->insert_address(a));
    BlockEffects b = block(0);
    pay(b, outpoint(1), 10'000, a, false);
    pay(b, outpoint(2), 10'000, a, false);
    ASSERT_TRUE(m_store->connect_block(b));
    ASSERT_TRUE(m_store->insert_withdrawal(withdrawal("w", 1, 1'000, 1), {outpoint(1)}));
    const std::string nul_id("w\0x", 3);
    EXPECT_FALSE(m_store->withdrawal(nul_id).value().has_value());
    EXPECT_TRUE(m_store->coins_of_withdrawal(nul_id).value().empty());
    EXPECT_FALSE(m_store->set_withdrawal_status(nul_id, "broadcast", "voided").value());
    EXPECT_FALSE(m_store->withdrawal_by_key(1, nul_id).value().has_value());
    EXPECT_FALSE(m_store->delete_withdrawal(nul_id).value());
    const auto w = m_store->withdrawal("w").value();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->status, "broadcast");
    EXPECT_EQ(m_store->coins_of_withdrawal("w").value().size(), 1u);
    EXPECT_TRUE(m_store->withdrawals_with_status(std::string("broadcast\0x", 11)).value().empty());
    if (GetParam() == DbBackend::postgres) {
        EXPECT_FALSE(m_store->insert_withdrawal(withdrawal(std::string("v\0", 2), 1, 1'000, 1),
                                                {outpoint(2)}));
        EXPECT_FALSE(m_store->unspent_coins().value()[1].reserved_by.has_value());
    }
}

// Two instances on one database (two server processes): each write is visible to the other
// as soon as the call returns.
TEST_P(ChainStoreTest, TwoInstancesSeeEachOthersWritesAtOnce) {
    auto other = open_store();
    ASSERT_TRUE(other);
    const AddressRecord a = address(Branch::receive, 0, 3);
    ASSERT_TRUE(m_store->insert_address(a));
    EXPECT_EQ(other->next_index(Branch::receive).value(), 1u);
    EXPECT_EQ(other->unused_address(3).value()->index, 0u);
    BlockEffects b = block(0);
    pay(b, outpoint(1), 9'000, a, true);
    ASSERT_TRUE(other->connect_block(b));
    EXPECT_EQ(m_store->tip().value()->height, 0);
    ASSERT_TRUE(m_store->mark_credited(outpoint(1)));
    EXPECT_EQ(other->deposits_of(3).value()[0].status, DepositStatus::credited);
    ASSERT_TRUE(other->insert_withdrawal(withdrawal("w", 3, 1'000, 10), {outpoint(1)}));
    EXPECT_EQ(m_store->coins_of_withdrawal("w").value().size(), 1u);
    auto taken = m_store->insert_withdrawal(withdrawal("x", 3, 1'000, 10), {outpoint(1)});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, StoreError::exists);
    EXPECT_TRUE(m_store->set_withdrawal_status("w", "broadcast", "confirmed").value());
    EXPECT_EQ(other->withdrawal("w").value()->status, "confirmed");
    // A status another instance moved first is not overwritten.
    EXPECT_FALSE(other->set_withdrawal_status("w", "broadcast", "voided").value());
    EXPECT_EQ(m_store->withdrawal("w").value()->status, "confirmed");
}

// Two withdrawals wanting overlapping coins (named in opposite orders) from two instances at
// the same moment: exactly one holds them, the other is `exists` and holds nothing.
TEST_P(ChainStoreTest, CoinsRacedForFromTwoInstancesAreHeldOnce) {
    auto other = open_store();
    ASSERT_TRUE(other);
    const AddressRecord a = address(Branch::receive, 0, 3);
    ASSERT_TRUE(m_store->insert_address(a));
    constexpr int kRounds = 20;
    BlockEffects b = block(0);
    for (int i = 0; i < 2 * kRounds; ++i)
        pay(b, outpoint(static_cast<std::uint8_t>(i + 1)), 1'000, a, false);
    ASSERT_TRUE(m_store->connect_block(b));
    ChainStore* stores[2] = {m_store.get(), other.get()};
    for (int round = 0; round < kRounds; ++round) {
        const auto first = outpoint(static_cast<std::uint8_t>(2 * round + 1));
        const auto second = outpoint(static_cast<std::uint8_t>(2 * round + 2));
        const std::vector<chain::OutPoint> wants[2] = {{first, second}, {second, first}};
        std::latch start(2);
        store::StoreResult<void> results[2];
        std::thread threads[2];
        for (int i = 0; i < 2; ++i) {
            threads[i] = std::thread([&, i] {
                start.arrive_and_wait();
                results[i] = stores[i]->insert_withdrawal(
                    withdrawal("r" + std::to_string(round) + "_" + std::to_string(i), 3, 500,
                               round),
                    wants[i]);
            });
        }
        for (auto& t : threads) t.join();
        ASSERT_NE(static_cast<bool>(results[0]), static_cast<bool>(results[1]))
            << "round " << round;
        const int winner = results[0] ? 0 : 1;
        EXPECT_EQ(results[1 - winner].error().code, StoreError::exists);
        const std::string id = "r" + std::to_string(round) + "_" + std::to_string(winner);
        EXPECT_EQ(m_store->coins_of_withdrawal(id).value().size(), 2u);
        const std::string loser = "r" + std::to_string(round) + "_" + std::to_string(1 - winner);
        EXPECT_FALSE(m_store->withdrawal(loser).value().has_value());
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, ChainStoreTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

}  // namespace chain_store_test
}  // namespace
}  // namespace satload::onchain
