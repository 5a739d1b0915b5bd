// Withdrawals: the fee and coin-selection arithmetic (vsize estimate, dust change folded into
// the fee, nothing when the coins fall short), refusals that reserve nothing, and the whole
// path against the fake node: reserved, signed, broadcast, confirmed in the mempool, posted
// with its fee after N confirmations (the wallet charged amount + fee, the audit passing),
// rebroadcast when dropped, held above the limits until approved, and voided only when a
// conflicting spend of its coins confirms.
#include <gtest/gtest.h>

#include "chain/address.h"
#include "chain/sighash.h"
#include "onchain/wallet_fixture.h"
#include "onchain/withdrawals.h"

namespace satload::onchain {
namespace {

CoinRecord coin(std::int64_t value, std::uint8_t tag) {
    CoinRecord c;
    c.outpoint.txid.fill(tag);
    c.value_sat = value;
    return c;
}

// A P2WPKH spend of one coin to two P2WPKH outputs is at most 141 vB (11 overhead, 68 per
// input, 31 per output, rounded up): the estimate is the known figure, and signing such a
// transaction never exceeds it.
TEST(CoinSelection, VsizeEstimateMatchesSignedTransactions) {
    EXPECT_EQ(estimate_vsize(1, {22, 22}), 141u);
    EXPECT_EQ(estimate_vsize(2, {22}), 178u);
    const auto key = *chain::PrivateKey::from_bytes(Bytes(32, 0x11));
    for (std::size_t inputs = 1; inputs <= 4; ++inputs) {
        std::vector<chain::P2wpkhCoin> coins;
        for (std::size_t i = 0; i < inputs; ++i) {
            chain::OutPoint o;
            o.txid.fill(static_cast<std::uint8_t>(i + 1));
            coins.push_back(chain::P2wpkhCoin{o, 100'000, key, chain::kSequenceRbf});
        }
        const std::vector<chain::TxOut> outs{{50'000, Bytes(22, 0)}, {40'000, Bytes(22, 1)}};
        auto tx = chain::sign_p2wpkh_spend(coins, outs, 2, 0);
        ASSERT_TRUE(tx);
        EXPECT_LE(chain::transaction_vsize(*tx), estimate_vsize(inputs, {22, 22}));
        EXPECT_GE(chain::transaction_vsize(*tx) + inputs, estimate_vsize(inputs, {22, 22}));
    }
}

// Largest coins first; the fee is the rate times the estimated size (rounded up); change at or
// above dust is returned, change below dust goes to the fee; short coins select nothing.
TEST(CoinSelection, FeeChangeAndDust) {
    auto c = select_coins({coin(5'000, 1), coin(100'000, 2), coin(20'000, 3)}, 60'000, 22, 2.0);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->coins.size(), 1u);
    EXPECT_EQ(c->coins[0].value_sat, 100'000);
    EXPECT_EQ(c->fee_sat, 282);  // 141 vB * 2
    EXPECT_EQ(c->change_sat, 100'000 - 60'000 - 282);
    // Two coins needed.
    c = select_coins({coin(50'000, 1), coin(30'000, 2)}, 70'000, 22, 1.5);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->coins.size(), 2u);
    EXPECT_EQ(c->fee_sat, fee_for(estimate_vsize(2, {22, 22}), 1.5));
    EXPECT_EQ(c->change_sat, 80'000 - 70'000 - c->fee_sat);
    // Change would be 300 sat (below dust): no change output, the fee takes it.
    const std::int64_t fee2 = fee_for(estimate_vsize(1, {22, 22}), 1.0);
    c = select_coins({coin(10'000, 1)}, 10'000 - fee2 - 300, 22, 1.0);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->change_sat, 0);
    EXPECT_EQ(c->fee_sat, fee2 + 300);
    // Not enough for amount + fee.
    EXPECT_FALSE(select_coins({coin(10'000, 1)}, 9'950, 22, 1.0));
    EXPECT_FALSE(select_coins({}, 1'000, 22, 1.0));
}

// Node estimates are clamped: never below 1 sat/vB, never above the cap, NaN is the minimum.
TEST(CoinSelection, FeeRateClamped) {
    EXPECT_EQ(clamp_fee_rate(0.2), kMinFeeRateSatPerVb);
    EXPECT_EQ(clamp_fee_rate(12.5), 12.5);
    EXPECT_EQ(clamp_fee_rate(1e9), kMaxFeeRateSatPerVb);
    EXPECT_EQ(clamp_fee_rate(std::nan("")), kMinFeeRateSatPerVb);
}

class WithdrawalTest : public WatcherTest {
protected:
    void SetUp() override {
        WatcherTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        m_engine = std::make_unique<WithdrawalEngine>(*m_wallet, *m_store, m_node, *m_ledger, options());
        m_engine->set_frozen_check([this](AccountId a) { return m_frozen.count(a) > 0; });
        m_wallet->set_after_sync([this](std::int64_t tip) { m_engine->check(tip); });
        sync();
    }
    void TearDown() override {
        m_engine.reset();
        WatcherTest::TearDown();
    }
    static WithdrawalOptions options() {
        WithdrawalOptions o;
        o.fallback_fee_rate_sat_per_vb = 2.0;
        o.max_withdrawal_sat = 200'000;
        o.daily_withdrawal_sat = 300'000;
        o.mempool_wait = std::chrono::milliseconds(50);
        return o;
    }
    // Credits `sat` to the account through a confirmed deposit.
    void fund(AccountId a, std::int64_t sat) {
        const std::string addr = *m_wallet->deposit_address(a);
        m_node.mine({pay(addr, sat, static_cast<std::uint8_t>(a + 100))});
        m_node.mine_empty(2);
        sync();
        ASSERT_GE(balance(a), sat * 1000);
    }
    std::int64_t pending_withdrawals() {
        return m_ledger->lookup_account(ledger::kPendingWithdrawalsId)->credits_pending_msat;
    }
    std::string payee() { return m_wallet->address_at(Branch::receive, 999); }
    // A withdrawal row as a request writes it before its ledger reservation.
    WithdrawalRecord reserving_row(const std::string& id, AccountId account,
                                   std::int64_t created_s) {
        WithdrawalRecord w;
        w.id = id;
        w.account = account;
        w.address = payee();
        w.amount_sat = 20'000;
        w.fee_sat = 200;
        w.status = "reserving";
        w.txid.fill(0x5a);
        w.raw_tx = Bytes{0x02};
        w.created_s = created_s;
        return w;
    }
    static std::int64_t wall_clock_s() {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    // Nothing of `account`'s `funded_msat` is reserved, and no coin is held.
    void expect_nothing_reserved(AccountId account, std::int64_t funded_msat) {
        EXPECT_EQ(m_wallets->balance(account).pending_out_msat, 0);
        EXPECT_EQ(m_wallets->balance(account).available_msat, funded_msat);
        EXPECT_EQ(pending_withdrawals(), 0);
        const auto coins = m_store->unspent_coins();  // named: a range-for over *temporary dangles
        ASSERT_TRUE(coins);
        for (const auto& c : *coins) EXPECT_FALSE(c.reserved_by.has_value());
    }
    std::unique_ptr<WithdrawalEngine> m_engine;
};

// Refusals: malformed, a mainnet address on regtest, below dust, not whole sats, above the
// balance, a frozen wallet. Each names its reason and reserves nothing, holds no coin and
// broadcasts nothing.
TEST_P(WithdrawalTest, RefusalsReserveNothing) {
    fund(1, 100'000);
    const auto before = m_wallets->balance(1);
    const std::string mainnet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
    struct Case {
        std::string address;
        std::int64_t msat;
        WithdrawalError want;
    };
    const Case cases[] = {
        {"bcrt1qnotanaddress", 10'000'000, WithdrawalError::bad_address},
        {mainnet, 10'000'000, WithdrawalError::wrong_network},
        {payee(), 545'000, WithdrawalError::below_dust},
        {payee(), 10'000'500, WithdrawalError::bad_amount},
        {payee(), 0, WithdrawalError::bad_amount},
        {payee(), 100'000'000, WithdrawalError::insufficient_funds},
    };
    for (const auto& c : cases) {
        auto r = m_engine->request(1, c.address, c.msat);
        ASSERT_FALSE(r) << c.address;
        EXPECT_EQ(r.error().code, c.want) << r.error().message;
    }
    m_frozen[1] = "test";
    auto frozen = m_engine->request(1, payee(), 10'000'000);
    ASSERT_FALSE(frozen);
    EXPECT_EQ(frozen.error().code, WithdrawalError::frozen);
    const auto after = m_wallets->balance(1);
    EXPECT_EQ(after.available_msat, before.available_msat);
    EXPECT_EQ(after.pending_out_msat, 0);
    EXPECT_EQ(pending_withdrawals(), 0);
    EXPECT_EQ(m_node.broadcasts, 0);
    const auto coins = m_store->unspent_coins();  // named: a range-for over *temporary dangles
    ASSERT_TRUE(coins);
    for (const auto& c : *coins) EXPECT_FALSE(c.reserved_by.has_value());
    EXPECT_TRUE(m_engine->list(1)->empty());
}

// The whole path: the reservation holds amount + fee at once, the signed transaction reaches
// the mempool paying the payee's script exactly, and after N confirmations the wallet is
// charged amount + fee (posted), the reservation is gone and the audit passes. The change
// comes back as our coin.
TEST_P(WithdrawalTest, BroadcastConfirmedAndPosted) {
    fund(2, 100'000);
    auto r = m_engine->request(2, payee(), 30'000'000);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, "broadcast");
    ASSERT_EQ(m_node.mempool.size(), 1u);
    const auto& tx = m_node.mempool[0];
    EXPECT_EQ(chain::hash_to_display_hex(chain::txid(tx)), r->txid);
    EXPECT_EQ(tx.outputs[0].value_sat, 30'000);
    EXPECT_EQ(tx.outputs[0].script_pubkey, m_wallet->script_at(Branch::receive, 999));
    for (const auto& in : tx.inputs) EXPECT_EQ(in.sequence, chain::kSequenceRbf);
    const std::int64_t fee_sat = r->fee_msat / 1000;
    std::int64_t out_sum = 0;
    for (const auto& o : tx.outputs) out_sum += o.value_sat;
    EXPECT_EQ(100'000 - out_sum, fee_sat);  // the fee is what the coins hold beyond the outputs
    EXPECT_EQ(fee_sat, fee_for(estimate_vsize(1, {22, 22}), 2.0));
    auto b = m_wallets->balance(2);
    EXPECT_EQ(b.available_msat, 100'000'000 - 30'000'000 - fee_sat * 1000);
    EXPECT_EQ(b.balance_msat, 100'000'000);
    m_node.mine_mempool();
    sync();
    EXPECT_EQ(m_engine->list(2)->at(0).confirmations, 1);
    EXPECT_EQ(m_engine->list(2)->at(0).status, "broadcast");
    m_node.mine_empty(2);
    sync();
    EXPECT_EQ(m_engine->list(2)->at(0).status, "confirmed");
    b = m_wallets->balance(2);
    EXPECT_EQ(b.balance_msat, 100'000'000 - 30'000'000 - fee_sat * 1000);
    EXPECT_EQ(b.pending_out_msat, 0);
    EXPECT_EQ(pending_withdrawals(), 0);
    sync();  // posting again changes nothing
    EXPECT_EQ(m_wallets->balance(2).balance_msat, b.balance_msat);
    auto coins = m_store->unspent_coins();
    ASSERT_EQ(coins->size(), 1u);
    EXPECT_EQ(coins->at(0).branch, Branch::change);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A node that drops (or never took) the transaction: the watcher rebroadcasts it each round,
// and the reservation is never voided for it.
TEST_P(WithdrawalTest, DroppedTransactionRebroadcastNotVoided) {
    fund(3, 100'000);
    m_node.reject = true;
    auto r = m_engine->request(3, payee(), 20'000'000);
    ASSERT_TRUE(r);
    EXPECT_TRUE(m_node.mempool.empty());
    const int sent = m_node.broadcasts;
    sync();
    sync();
    EXPECT_GE(m_node.broadcasts, sent + 2);
    EXPECT_EQ(m_engine->list(3)->at(0).status, "broadcast");
    EXPECT_GT(m_wallets->balance(3).pending_out_msat, 0);
    m_node.reject = false;
    sync();
    ASSERT_EQ(m_node.mempool.size(), 1u);
    m_node.mine_mempool();
    m_node.mine_empty(2);
    sync();
    EXPECT_EQ(m_engine->list(3)->at(0).status, "confirmed");
}

// Above the per-withdrawal limit: reserved and signed but not broadcast until approved; a
// second approval is refused.
TEST_P(WithdrawalTest, AboveLimitWaitsForApproval) {
    fund(4, 400'000);
    auto r = m_engine->request(4, payee(), 250'000'000);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, "awaiting_approval");
    EXPECT_TRUE(r->txid.empty());
    EXPECT_EQ(m_node.broadcasts, 0);
    EXPECT_GT(m_wallets->balance(4).pending_out_msat, 250'000'000);
    sync();
    EXPECT_EQ(m_node.broadcasts, 0);
    auto approved = m_engine->approve(r->id);
    ASSERT_TRUE(approved) << approved.error().message;
    EXPECT_EQ(approved->status, "broadcast");
    EXPECT_EQ(m_node.mempool.size(), 1u);
    EXPECT_EQ(m_engine->approve(r->id).error().code, WithdrawalError::not_awaiting);
    EXPECT_EQ(m_engine->approve("00000000000000000000000000000001").error().code, WithdrawalError::not_found);
}

// A request sent again under its Idempotency-Key (the client's retry after a lost answer, or
// another server behind the same database) answers the first withdrawal: one broadcast, the
// money reserved once. The key with another amount or address is refused and reserves
// nothing; another key is a new withdrawal.
TEST_P(WithdrawalTest, RetryWithTheSameKeyMakesOneWithdrawal) {
    fund(8, 200'000);
    auto first = m_engine->request(8, payee(), 30'000'000, "retry-key_1");
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->status, "broadcast");
    EXPECT_FALSE(first->replayed);
    const auto reserved = m_wallets->balance(8).available_msat;
    auto again = m_engine->request(8, payee(), 30'000'000, "retry-key_1");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE(again->replayed);
    EXPECT_EQ(again->id, first->id);
    EXPECT_EQ(again->txid, first->txid);
    WithdrawalEngine other_server(*m_wallet, *m_store, m_node, *m_ledger, options());
    auto elsewhere = other_server.request(8, payee(), 30'000'000, "retry-key_1");
    ASSERT_TRUE(elsewhere) << elsewhere.error().message;
    EXPECT_EQ(elsewhere->id, first->id);
    EXPECT_EQ(m_node.broadcasts, 1);
    EXPECT_EQ(m_wallets->balance(8).available_msat, reserved);

    auto other_amount = m_engine->request(8, payee(), 31'000'000, "retry-key_1");
    ASSERT_FALSE(other_amount);
    EXPECT_EQ(other_amount.error().code, WithdrawalError::key_reused);
    auto other_address =
        m_engine->request(8, m_wallet->address_at(Branch::receive, 998), 30'000'000, "retry-key_1");
    ASSERT_FALSE(other_address);
    EXPECT_EQ(other_address.error().code, WithdrawalError::key_reused);
    EXPECT_EQ(m_wallets->balance(8).available_msat, reserved);
    EXPECT_EQ(m_engine->list(8)->size(), 1u);

    m_node.mine_mempool();  // its change confirmed: a coin for the next one
    sync();
    auto second = m_engine->request(8, payee(), 30'000'000, "retry-key_2");
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_NE(second->id, first->id);
    EXPECT_EQ(m_engine->list(8)->size(), 2u);
    EXPECT_EQ(m_node.broadcasts, 2);
    EXPECT_TRUE(is_request_key("retry-key_1"));
    EXPECT_FALSE(is_request_key(""));
    EXPECT_FALSE(is_request_key("a b"));
    EXPECT_FALSE(is_request_key(std::string(kRequestKeyCharsMax + 1, 'a')));
}

// A withdrawal left `reserving` (its server crashed, or the ledger failed, before the
// reservation's answer) is settled by the watcher's check only once it is older than the
// grace period, so a request still being set up on another server is never touched; then from
// what the ledger holds: reserved -> awaiting approval (nothing sent), never reserved ->
// dropped with its coins released (no reservation made after the fact).
TEST_P(WithdrawalTest, ReservingLeftByACrashIsSettledFromTheLedgerAfterTheGrace) {
    fund(9, 100'000);
    auto coins = m_store->unspent_coins();
    ASSERT_TRUE(coins);
    ASSERT_EQ(coins->size(), 1u);
    const std::int64_t now = wall_clock_s();
    const auto row = [&](const std::string& id, std::int64_t created_s) {
        return reserving_row(id, 9, created_s);
    };
    const std::string young = "00000000000000000000000000000a01";
    ASSERT_TRUE(m_store->insert_withdrawal(row(young, now), {coins->at(0).outpoint}));
    sync();  // the check runs after the round
    EXPECT_EQ(m_store->withdrawal(young).value()->status, "reserving");
    EXPECT_EQ(m_store->unspent_coins().value().at(0).reserved_by, young);
    ASSERT_TRUE(m_store->delete_withdrawal(young).value());

    // The rows below are old by their created_s; a store servers share judges by its own clock
    // at their insert (just now), so the grace is 0 from here on, for both backends alike.
    WithdrawalOptions no_grace = options();
    no_grace.reserving_grace_s = 0;
    m_engine = std::make_unique<WithdrawalEngine>(*m_wallet, *m_store, m_node, *m_ledger, no_grace);
    m_engine->set_frozen_check([this](AccountId a) { return m_frozen.count(a) > 0; });

    // Old, and the ledger never saw its reservation: dropped, the coin free, nothing reserved.
    const std::string lost = "00000000000000000000000000000a02";
    ASSERT_TRUE(
        m_store->insert_withdrawal(row(lost, now - kReservingGraceS - 1), {coins->at(0).outpoint}));
    sync();
    EXPECT_FALSE(m_store->withdrawal(lost).value().has_value());
    EXPECT_FALSE(m_store->unspent_coins().value().at(0).reserved_by.has_value());
    EXPECT_EQ(m_wallets->balance(9).pending_out_msat, 0);
    EXPECT_EQ(pending_withdrawals(), 0);

    // Old, and the ledger applied its reservation before the crash: held for the operator.
    const std::string kept = "00000000000000000000000000000a03";
    ASSERT_TRUE(
        m_store->insert_withdrawal(row(kept, now - kReservingGraceS - 1), {coins->at(0).outpoint}));
    ledger::Transfer t;
    t.id = *ledger::parse_id_hex(kept);
    t.debit_account_id = ledger::user_wallet_id(payments::wallet_user_id(9));
    t.credit_account_id = ledger::kPendingWithdrawalsId;
    t.amount_msat = 20'200'000;
    t.code = ledger::transfer_code::withdrawal;
    t.flags = ledger::transfer_flags::pending;
    auto applied = m_ledger->create_transfers({t});
    ASSERT_TRUE(applied);
    ASSERT_TRUE(ledger::applied(applied->at(0).result));
    sync();
    EXPECT_EQ(m_store->withdrawal(kept).value()->status, "awaiting_approval");
    EXPECT_EQ(m_wallets->balance(9).pending_out_msat, 20'200'000);
    EXPECT_EQ(m_node.broadcasts, 0);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A withdrawal another server began, with a clock 1,000 s behind this one's: a store the
// servers share (PostgreSQL) judges it by the database's clock, so this server leaves it to
// its request; one server's store (SQLite) has that server's clock only, and settles it.
TEST_P(WithdrawalTest, ReservingIsJudgedByTheSharedStoresOwnClock) {
    fund(9, 100'000);
    auto coins = m_store->unspent_coins();
    ASSERT_TRUE(coins);
    ASSERT_EQ(coins->size(), 1u);
    const std::string id = "00000000000000000000000000000a04";
    ASSERT_TRUE(m_store->insert_withdrawal(
        reserving_row(id, 9, wall_clock_s() - kReservingGraceS - 1'000), {coins->at(0).outpoint}));
    sync();
    if (GetParam() == DbBackend::postgres) {
        EXPECT_EQ(m_store->withdrawal(id).value()->status, "reserving");
        EXPECT_EQ(m_store->unspent_coins().value().at(0).reserved_by, id);
    } else {
        EXPECT_FALSE(m_store->withdrawal(id).value().has_value());
        EXPECT_FALSE(m_store->unspent_coins().value().at(0).reserved_by.has_value());
    }
    EXPECT_EQ(m_node.broadcasts, 0);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A chain store on which the watcher's check drops a withdrawal still reserving just before
// its request moves it on (the request took longer than the grace period).
class DroppedWhileReserving final : public ForwardingChainStore {
public:
    using ForwardingChainStore::ForwardingChainStore;
    StoreResult<bool> set_withdrawal_status(const std::string& id, std::string_view from,
                                            std::string_view to) override {
        if (from == "reserving") (void)m_inner.delete_withdrawal(id);
        return m_inner.set_withdrawal_status(id, from, to);
    }
};

// The request whose row the watcher dropped meanwhile sends nothing, voids the reservation it
// made and says so: no money stays reserved, no coin stays held, nothing is broadcast.
TEST_P(WithdrawalTest, RequestWhoseRowWasDroppedMeanwhileReleasesItsReservation) {
    fund(10, 100'000);
    DroppedWhileReserving store(*m_store);
    WithdrawalEngine engine(*m_wallet, store, m_node, *m_ledger, options());
    auto r = engine.request(10, payee(), 20'000'000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, WithdrawalError::ledger);
    EXPECT_NE(r.error().message.find("was dropped"), std::string::npos) << r.error().message;
    EXPECT_EQ(m_node.broadcasts, 0);
    expect_nothing_reserved(10, 100'000'000);
    EXPECT_TRUE(m_engine->list(10)->empty());
    EXPECT_TRUE(m_ledger->audit().passed());
}

// The operator's rejection of a withdrawal awaiting approval: nothing is sent, the money is
// back (nothing reserved), its coins are free for the next one, and it lists as voided; it
// can be neither rejected nor approved again.
TEST_P(WithdrawalTest, RejectedWithdrawalReleasesItsMoneyAndCoins) {
    fund(11, 400'000);
    auto r = m_engine->request(11, payee(), 250'000'000);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, "awaiting_approval");
    EXPECT_GT(m_wallets->balance(11).pending_out_msat, 0);
    auto rejected = m_engine->reject(r->id);
    ASSERT_TRUE(rejected) << rejected.error().message;
    EXPECT_EQ(rejected->status, "voided");
    EXPECT_EQ(m_node.broadcasts, 0);
    expect_nothing_reserved(11, 400'000'000);
    EXPECT_EQ(m_engine->list(11)->at(0).status, "voided");
    EXPECT_EQ(m_engine->reject(r->id).error().code, WithdrawalError::not_awaiting);
    EXPECT_EQ(m_engine->approve(r->id).error().code, WithdrawalError::not_awaiting);
    EXPECT_EQ(m_engine->reject("00000000000000000000000000000001").error().code,
              WithdrawalError::not_found);
    auto next = m_engine->request(11, payee(), 150'000'000);  // the coin serves the next one
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(next->status, "broadcast");
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A chain store whose release of a withdrawal's coins fails.
class ReleaseFails final : public ForwardingChainStore {
public:
    using ForwardingChainStore::ForwardingChainStore;
    StoreResult<void> release_coins(const std::string&) override {
        return fail(store::StoreFailure{store::StoreError::io, "release failed"});
    }
};

// A rejection whose ledger void failed leaves the withdrawal voided (claimed first, so it can
// never be sent) with its money still reserved and its coins held. The watcher's next check
// voids the reservation again and frees the coins: the money comes back without the operator.
// Reproduces the gap where nothing ever retried it.
TEST_P(WithdrawalTest, RejectionWhoseVoidFailedIsFinishedByTheCheck) {
    fund(12, 400'000);
    auto r = m_engine->request(12, payee(), 250'000'000);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, "awaiting_approval");
    // What reject() leaves when the ledger fails the void: the claim, and nothing after it.
    ASSERT_TRUE(m_store->set_withdrawal_status(r->id, "awaiting_approval", "voided").value());
    ASSERT_GT(m_wallets->balance(12).pending_out_msat, 0);
    ASSERT_EQ(m_store->voided_holding_coins(10).value().size(), 1u);
    sync();  // the check runs after the round
    expect_nothing_reserved(12, 400'000'000);
    EXPECT_TRUE(m_store->voided_holding_coins(10).value().empty());
    EXPECT_EQ(m_engine->list(12)->at(0).status, "voided");
    EXPECT_EQ(m_engine->approve(r->id).error().code, WithdrawalError::not_awaiting);
    EXPECT_EQ(m_node.broadcasts, 0);
    sync();  // nothing more to do: voided once
    expect_nothing_reserved(12, 400'000'000);
    EXPECT_TRUE(m_ledger->audit().passed());

    // The void applied but the coins' release failed: the check frees them, and the money is
    // not given back twice.
    auto again = m_engine->request(12, payee(), 250'000'000);
    ASSERT_TRUE(again) << again.error().message;
    ReleaseFails store(*m_store);
    WithdrawalEngine engine(*m_wallet, store, m_node, *m_ledger, options());
    ASSERT_FALSE(engine.reject(again->id));
    EXPECT_EQ(m_store->withdrawal(again->id).value()->status, "voided");
    EXPECT_EQ(m_store->voided_holding_coins(10).value().size(), 1u);
    EXPECT_EQ(m_wallets->balance(12).available_msat, 400'000'000);
    sync();
    expect_nothing_reserved(12, 400'000'000);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// A chain store on which another server's operator withdrawal reserves most of the platform
// revenue between this request's balance check and its reservation (while its row is written).
class RevenueReservedMeanwhile final : public ForwardingChainStore {
public:
    RevenueReservedMeanwhile(ChainStore& inner, ledger::Ledger& ledger, std::int64_t msat)
        : ForwardingChainStore(inner), m_ledger(ledger), m_msat(msat) {}
    StoreResult<void> insert_withdrawal(const WithdrawalRecord& w,
                                        const std::vector<chain::OutPoint>& c) override {
        ledger::Transfer other;
        other.id = ledger::Id128{0x0e, 1};
        other.debit_account_id = ledger::kPlatformRevenueId;
        other.credit_account_id = ledger::kPendingWithdrawalsId;
        other.amount_msat = m_msat;
        other.code = ledger::transfer_code::withdrawal;
        other.flags = ledger::transfer_flags::pending;
        auto r = m_ledger.create_transfers({other});
        EXPECT_TRUE(r && ledger::applied(r->at(0).result));
        return m_inner.insert_withdrawal(w, c);
    }

private:
    ledger::Ledger& m_ledger;
    std::int64_t m_msat;
};

// Two operator withdrawals of platform revenue on two servers: both pass the balance check,
// and the ledger's writer lets only what the revenue covers through. The platform revenue
// account has no overdraft flag of its own; the reservation's transfer flag keeps it from
// going below zero. Reproduces the gap where the second one took the revenue below zero.
TEST_P(WithdrawalTest, OperatorWithdrawalsRacingOnTwoServersNeverOverdrawRevenue) {
    fund(13, 400'000);
    ledger::Transfer fees;  // revenue the platform earned
    fees.id = ledger::Id128{0x0e, 2};
    fees.debit_account_id = payments::wallet_id(13);
    fees.credit_account_id = ledger::kPlatformRevenueId;
    fees.amount_msat = 300'000'000;
    fees.code = ledger::transfer_code::platform_fee;
    ASSERT_EQ(m_ledger->create_transfers({fees})->at(0).result, ledger::TransferResult::ok);
    RevenueReservedMeanwhile store(*m_store, *m_ledger, 250'000'000);
    WithdrawalEngine engine(*m_wallet, store, m_node, *m_ledger, options());
    auto r = engine.request(kPlatformAccount, payee(), 100'000'000);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, WithdrawalError::insufficient_funds) << r.error().message;
    const auto revenue = m_ledger->lookup_account(ledger::kPlatformRevenueId);
    ASSERT_TRUE(revenue);
    EXPECT_EQ(revenue->available_msat(), 50'000'000);
    EXPECT_EQ(m_node.broadcasts, 0);
    EXPECT_TRUE(engine.list(kPlatformAccount)->empty());
    const auto coins = m_store->unspent_coins();  // named: a range-for over *temporary dangles
    ASSERT_TRUE(coins);
    for (const auto& c : *coins) EXPECT_FALSE(c.reserved_by.has_value());
    // What the revenue covers still goes out.
    auto fits = m_engine->request(kPlatformAccount, payee(), 40'000'000);
    ASSERT_TRUE(fits) << fits.error().message;
    EXPECT_EQ(fits->status, "broadcast");
    EXPECT_GE(m_ledger->lookup_account(ledger::kPlatformRevenueId)->available_msat(), 0);
}

// A reorg takes the block that created the withdrawal's coin (and the withdrawal's own block);
// both transactions are mined again: the withdrawal still knows its coin and is posted once,
// and the deposit's reversal and second credit leave the user's net position exact.
TEST_P(WithdrawalTest, CoinReorgedAndMinedAgain) {
    const std::string addr = *m_wallet->deposit_address(7);
    const std::int64_t before = m_node.height();
    const auto deposit_tx = pay(addr, 100'000, 77);
    m_node.mine({deposit_tx});
    m_node.mine_empty(2);
    sync();
    ASSERT_EQ(balance(7), 100'000'000);
    auto r = m_engine->request(7, payee(), 20'000'000);
    ASSERT_TRUE(r) << r.error().message;
    const auto withdrawal_tx = m_node.mempool.at(0);
    m_node.mine_mempool();
    sync();
    m_node.rewind_to(before);
    m_node.mine({deposit_tx, withdrawal_tx});
    m_node.mine_empty(3);
    sync();
    sync();
    EXPECT_EQ(m_engine->list(7)->at(0).status, "confirmed");
    // The deposit was reversed while the withdrawal held part of it (that part is owed, and the
    // wallet frozen), then credited again when mined again: what the user has net of what it
    // owes is the deposit minus the withdrawal and its fee.
    const auto receivable = m_ledger->lookup_account(ledger::user_receivable_id(payments::wallet_user_id(7)));
    ASSERT_TRUE(receivable);
    const std::int64_t owed = receivable->debits_posted_msat - receivable->credits_posted_msat;
    EXPECT_EQ(owed, 20'000'000 + r->fee_msat);
    EXPECT_EQ(balance(7) - owed, 100'000'000 - 20'000'000 - r->fee_msat);
    EXPECT_EQ(m_frozen.count(7), 1u);
    EXPECT_EQ(m_wallets->balance(7).pending_out_msat, 0);
    EXPECT_TRUE(m_ledger->audit().passed());
}

// The daily limit counts what was sent in the last 24 h: two withdrawals each below the
// per-withdrawal limit, together above the daily one, and the second waits for approval.
TEST_P(WithdrawalTest, DailyLimitHoldsTheOneThatCrossesIt) {
    fund(6, 200'000);  // two coins, so the second withdrawal has one of its own
    fund(6, 200'000);
    auto first = m_engine->request(6, payee(), 150'000'000);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->status, "broadcast");
    auto second = m_engine->request(6, payee(), 160'000'000);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->status, "awaiting_approval");  // 150k + 160k > 300k a day
    EXPECT_EQ(m_node.mempool.size(), 1u);
}

// A conflicting spend of the withdrawal's coin confirms (as if the operator double-spent it
// elsewhere): after N confirmations the reservation is voided and the wallet has it back.
TEST_P(WithdrawalTest, VoidedOnlyWhenConflictConfirms) {
    fund(5, 100'000);
    m_node.reject = true;  // ours never reaches a block
    auto r = m_engine->request(5, payee(), 20'000'000);
    ASSERT_TRUE(r);
    const auto held = m_store->coins_of_withdrawal(r->id);
    ASSERT_EQ(held->size(), 1u);
    chain::Transaction conflict;
    chain::TxIn in;
    in.prevout = held->at(0).outpoint;
    conflict.inputs.push_back(in);
    conflict.outputs.push_back(chain::TxOut{90'000, Bytes{0x51}});
    m_node.mine({conflict});
    sync();
    EXPECT_EQ(m_engine->list(5)->at(0).status, "broadcast");  // 1 confirmation: not yet
    m_node.mine_empty(2);
    sync();
    EXPECT_EQ(m_engine->list(5)->at(0).status, "voided");
    const auto b = m_wallets->balance(5);
    EXPECT_EQ(b.available_msat, 100'000'000);
    EXPECT_EQ(b.pending_out_msat, 0);
    EXPECT_TRUE(m_ledger->audit().passed());
}

INSTANTIATE_TEST_SUITE_P(Backends, WithdrawalTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

}  // namespace
}  // namespace satload::onchain
