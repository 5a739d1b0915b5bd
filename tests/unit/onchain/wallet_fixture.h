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
