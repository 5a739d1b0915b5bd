// Bitcoin deposits and withdrawals over HTTP, and what `satload serve --node` starts for them:
// the node's RPC client, the seed (created on first start, encrypted), the chain_* tables in
// meta.sqlite (or the deployment's PostgreSQL schema), the watcher thread and the withdrawal engine.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "ledger/ledger.h"
#include "onchain/chain_store.h"
#include "onchain/rpc.h"
#include "onchain/wallet.h"
#include "onchain/withdrawals.h"
#include "server/options.h"

namespace satload::store {
class PgDb;
class PgLease;
}

namespace satload::server {

// What the routes reach; both null without --node (the routes answer 503).
struct OnchainContext {
    onchain::OnchainWallet* wallet = nullptr;
    onchain::WithdrawalEngine* withdrawals = nullptr;
};

class OnchainRuntime {
public:
    // Reads the passphrase (--seed-passphrase-file, else SATLOAD_SEED_PASSPHRASE; refused empty
    // on main), opens or creates <data>/wallet.seed, derives the account key and wipes the seed,
    // and opens the chain store: on `pg` when set (serve --db postgresql://…), else in
    // <data>/meta.sqlite. The error is one line for the operator.
    static Result<std::unique_ptr<OnchainRuntime>, std::string> open(const ServerOptions& options,
                                                                     ledger::Ledger& ledger,
                                                                     std::shared_ptr<store::PgDb> pg);
    ~OnchainRuntime();
    OnchainRuntime(const OnchainRuntime&) = delete;
    OnchainRuntime& operator=(const OnchainRuntime&) = delete;

    // The safety layer's freeze, reached through hooks so onchain does not depend on it.
    void set_safety_hooks(std::function<bool(onchain::AccountId)> is_frozen, onchain::FreezeHook freeze);
    void start() { m_wallet->start(); }
    [[nodiscard]] OnchainContext& context() { return m_context; }

private:
    OnchainRuntime() = default;
    std::unique_ptr<onchain::NodeRpc> m_node;
    std::unique_ptr<onchain::ChainStore> m_store;
    std::unique_ptr<store::PgLease> m_lease;  // --db: the chain watcher's (null: always watch)
    std::unique_ptr<onchain::OnchainWallet> m_wallet;
    std::unique_ptr<onchain::WithdrawalEngine> m_withdrawals;
    OnchainContext m_context;
};

}  // namespace satload::server
