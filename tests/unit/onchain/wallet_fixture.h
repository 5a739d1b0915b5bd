// The onchain tests' fixture: a fake node, a real SQLite ledger, a real chain store (SQLite in
// a temporary directory, or PostgreSQL in a fresh schema: the test's parameter), and the
// wallet over them (reopened to simulate a restart).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "ledger/accounts.h"
#include "ledger/checkpoint.h"
#include "ledger/sqlite_ledger_store.h"
#include "onchain/fake_node.h"
#include "onchain/pg_chain_store.h"
#include "onchain/sqlite_chain_store.h"
#include "onchain/wallet.h"
#include "payments/wallet_service.h"
#include "store/pg_test_util.h"

namespace satload::onchain {

namespace fs = std::filesystem;

using store::testing::DbBackend;

// A chain store that hands every call to another: tests override the calls they fault.
class ForwardingChainStore : public ChainStore {
public:
    explicit ForwardingChainStore(ChainStore& inner) : m_inner(inner) {}

    StoreResult<void> mark_credited(const chain::OutPoint& o) override {
        return m_inner.mark_credited(o);
    }
    StoreResult<std::optional<BlockRecord>> tip() override { return m_inner.tip(); }
    StoreResult<std::optional<BlockRecord>> block_at(std::int64_t h) override {
        return m_inner.block_at(h);
    }
    StoreResult<void> connect_block(const BlockEffects& e) override {
        return m_inner.connect_block(e);
    }
    StoreResult<DisconnectEffects> disconnect_block(std::int64_t h) override {
        return m_inner.disconnect_block(h);
    }
    StoreResult<std::optional<AddressRecord>> address_by_script(ByteSpan s) override {
        return m_inner.address_by_script(s);
    }
    StoreResult<std::optional<AddressRecord>> unused_address(AccountId a) override {
        return m_inner.unused_address(a);
    }
    StoreResult<std::uint32_t> next_index(Branch b) override { return m_inner.next_index(b); }
    StoreResult<void> insert_address(const AddressRecord& a) override {
        return m_inner.insert_address(a);
    }
    StoreResult<std::vector<DepositRecord>> deposits_of(AccountId a) override {
        return m_inner.deposits_of(a);
    }
    StoreResult<std::vector<DepositRecord>> deposits_with_status(DepositStatus s) override {
        return m_inner.deposits_with_status(s);
    }
    StoreResult<void> set_reversal_plan(const chain::OutPoint& o, std::optional<ReversalPlan> p,
                                        std::int64_t attempt) override {
        return m_inner.set_reversal_plan(o, p, attempt);
    }
    StoreResult<void> mark_reversed(const chain::OutPoint& o, std::int64_t reversed_msat,
                                    std::int64_t receivable_msat) override {
        return m_inner.mark_reversed(o, reversed_msat, receivable_msat);
    }
    StoreResult<std::vector<CoinRecord>> unspent_coins() override {
        return m_inner.unspent_coins();
    }
    StoreResult<std::vector<CoinRecord>> coins_of_withdrawal(const std::string& id) override {
        return m_inner.coins_of_withdrawal(id);
    }
    StoreResult<void> insert_withdrawal(const WithdrawalRecord& w,
                                        const std::vector<chain::OutPoint>& c) override {
        return m_inner.insert_withdrawal(w, c);
    }
    StoreResult<bool> delete_withdrawal(const std::string& id) override {
        return m_inner.delete_withdrawal(id);
    }
    StoreResult<bool> set_withdrawal_status(const std::string& id, std::string_view from,
                                            std::string_view to) override {
        return m_inner.set_withdrawal_status(id, from, to);
    }
    StoreResult<std::optional<WithdrawalRecord>> withdrawal(const std::string& id) override {
        return m_inner.withdrawal(id);
    }
    StoreResult<void> release_coins(const std::string& id) override {
        return m_inner.release_coins(id);
    }
    StoreResult<std::optional<WithdrawalRecord>> withdrawal_by_key(
        AccountId a, const std::string& key) override {
        return m_inner.withdrawal_by_key(a, key);
    }
    StoreResult<std::vector<WithdrawalRecord>> withdrawals_of(AccountId a) override {
        return m_inner.withdrawals_of(a);
    }
    StoreResult<std::vector<WithdrawalRecord>> withdrawals_with_status(
        std::string_view s) override {
        return m_inner.withdrawals_with_status(s);
    }
    StoreResult<std::vector<WithdrawalRecord>> stale_reserving(std::int64_t grace_s,
                                                               std::int64_t now_s) override {
        return m_inner.stale_reserving(grace_s, now_s);
    }
    StoreResult<std::vector<WithdrawalRecord>> voided_holding_coins(std::size_t limit) override {
        return m_inner.voided_holding_coins(limit);
    }
    StoreResult<std::int64_t> withdrawn_since(std::int64_t since_s) override {
        return m_inner.withdrawn_since(since_s);
    }

protected:
    ChainStore& m_inner;
};

class WatcherTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) {
            SATLOAD_REQUIRE_PG();
            m_pg = std::make_unique<store::testing::PgTestSchema>();
        }
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = fs::path(base ? base : "/tmp") /
                ("watcher_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
        fs::create_directories(m_dir);
        auto store = ledger::SqliteLedgerStore::open(m_dir / "ledger.sqlite");
        ASSERT_TRUE(store) << store.error().message;
        ledger::LedgerOptions options;
        options.checkpoint_file = ledger::checkpoint_path_for(m_dir / "ledger.sqlite");
        auto opened = ledger::Ledger::open(std::move(*store), options);
        ASSERT_TRUE(opened) << opened.error().message;
        m_ledger = std::move(*opened);
        ASSERT_TRUE(m_ledger->create_accounts(ledger::system_accounts()));
        m_wallets = std::make_unique<payments::WalletService>(*m_ledger);
        m_entropy.bytes.fill(0x5a);
        m_node.mine_empty(5);
        open_wallet();
    }
    void TearDown() override {
        m_wallet.reset();
        m_store.reset();
        m_pg.reset();  // after the store: the schema is dropped once its connections are closed
        m_wallets.reset();
        m_ledger.reset();
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    }
    // (Re)opens the chain store and the wallet over the same files: a restart.
    void open_wallet(OnchainOptions options = {}) {
        m_wallet.reset();
        m_store.reset();
        if (m_pg) {
            // A restart is a new process: a new connection pool over the same schema.
            auto db = m_pg->open();
            ASSERT_TRUE(db);
            auto s = PgChainStore::open(std::move(db));
            ASSERT_TRUE(s) << s.error().message;
            m_store = std::move(*s);
        } else {
            auto s = SqliteChainStore::open(m_dir / "meta.sqlite");
            ASSERT_TRUE(s) << s.error().message;
            m_store = std::move(*s);
        }
        options.network = chain::Network::regtest;
        m_wallet = std::make_unique<OnchainWallet>(
            *m_store, m_node, *m_ledger, account_key(m_entropy, chain::network_params(chain::Network::regtest)),
            options);
        m_wallet->set_freeze_hook([this](AccountId a, const std::string& why) { m_frozen[a] = why; });
        m_wallet->set_alert_hook([this](const std::string& line) { m_alerts.push_back(line); });
    }
    SyncReport sync() {
        auto r = m_wallet->sync_once();
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : SyncReport{};
    }
    std::vector<DepositView> deposits(AccountId a) {
        auto r = m_wallet->deposits(a);
        EXPECT_TRUE(r);
        return r ? *r : std::vector<DepositView>{};
    }
    std::int64_t balance(AccountId a) { return m_wallets->balance(a).balance_msat; }

    fs::path m_dir;
    FakeNode m_node;
    SeedEntropy m_entropy;
    std::unique_ptr<ledger::Ledger> m_ledger;
    std::unique_ptr<payments::WalletService> m_wallets;
    std::unique_ptr<store::testing::PgTestSchema> m_pg;  // the PostgreSQL runs' schema
    std::unique_ptr<ChainStore> m_store;
    std::unique_ptr<OnchainWallet> m_wallet;
    std::map<AccountId, std::string> m_frozen;
    std::vector<std::string> m_alerts;
};

}  // namespace satload::onchain
