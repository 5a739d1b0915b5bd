// The bitcoin routes: POST /api/v1/wallet/deposit-address, GET /api/v1/wallet/deposits,
// POST and GET /api/v1/wallet/withdrawals, the admin's POST
// /api/v1/admin/withdrawals/<id>/approve; and the runtime `serve --node` starts.
#include "server/onchain_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <filesystem>

#include "crypto/primitives.h"
#include "onchain/pg_chain_store.h"
#include "onchain/pg_seed_store.h"
#include "onchain/sqlite_chain_store.h"
#include "server/admin.h"
#include "server/app.h"
#include "server/json_body.h"
#include "store/pg_lease.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// A withdrawal request is two short fields.
constexpr std::size_t kWithdrawalBodyBytesMax = 4096;
// The request header (draft-ietf-httpapi-idempotency-key-header) that makes a retry safe.
constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";

Problem problem_of(onchain::WithdrawalError e) {
    using E = onchain::WithdrawalError;
    switch (e) {
        case E::bad_amount: return Problem::bad_request;
        case E::bad_address:
        case E::wrong_network: return Problem::invalid_address;
        case E::below_dust: return Problem::amount_below_dust;
        case E::frozen: return Problem::wallet_frozen;
        case E::insufficient_funds: return Problem::insufficient_funds;
        case E::no_fee_rate:
        case E::hot_wallet_short:
        case E::node: return Problem::onchain_unavailable;
        case E::not_found: return Problem::not_found;
        case E::not_awaiting: return Problem::conflict;
        case E::key_reused:
            return Problem::idempotency_key_reused;
        case E::store:
        case E::ledger: return Problem::internal;
    }
    return Problem::internal;
}

json::object withdrawal_json(const onchain::WithdrawalView& w) {
    json::object o;
    o["id"] = w.id;
    o["status"] = w.status;
    if (!w.txid.empty()) o["txid"] = w.txid;
    o["address"] = w.address;
    o["amount_msat"] = w.amount_msat;
    o["fee_msat"] = w.fee_msat;
    o["confirmations"] = w.confirmations;
    return o;
}

constexpr std::string_view kNoNode =
    "this server has no bitcoin node (start it with --node URL --network NAME for deposits and withdrawals)";

}  // namespace

awaitable<void> App::onchain_route(Exchange& ex, std::span<const std::string_view> rest) {
    if (m_accounts == nullptr || m_wallet == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    if (rest.size() != 1) co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    const http::verb method = ex.request().method();
    const bool post = rest[0] != "deposits" && method == http::verb::post;
    const bool get = rest[0] != "deposit-address" && method == http::verb::get;
    if (!post && !get) {
        co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
    }
    OnchainContext* onchain = m_onchain;
    if (onchain == nullptr || onchain->wallet == nullptr) {
        co_return co_await send_problem(ex, Problem::onchain_unavailable, kNoNode);
    }
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    const accounts::AccountId me = caller.principal->account_id;

    json::object body;
    http::status status = http::status::ok;
    if (rest[0] == "deposit-address") {
        // A few SQLite statements (and one key derivation) on this Asio thread.
        auto address = onchain->wallet->deposit_address(me);
        if (!address) co_return co_await send_problem(ex, Problem::internal, "storage failure");
        body["address"] = *address;
        body["uri"] = "bitcoin:" + *address;
    } else if (rest[0] == "deposits") {
        auto deposits = onchain->wallet->deposits(me);
        if (!deposits) co_return co_await send_problem(ex, Problem::internal, "storage failure");
        json::array list;
        for (const auto& d : *deposits) {
            json::object o;
            o["txid"] = d.txid;
            o["vout"] = d.vout;
            o["amount_msat"] = d.amount_msat;
            o["confirmations"] = d.confirmations;
            o["status"] = d.status;
            list.push_back(std::move(o));
        }
        body["deposits"] = std::move(list);
        body["confirmations_required"] = onchain->wallet->options().confirmations;
    } else {
        co_return co_await withdrawals_of(ex, *onchain, me);
    }
    // A body we did not read (deposit-address takes none) cannot be followed on this connection.
    if (!ex.body_done()) ex.close_after_response();
    co_await send_text(ex, status, json::serialize(body), "application/json");
}

awaitable<bool> App::onchain_admin_route(Exchange& ex, std::span<const std::string_view> rest) {
    if (rest.size() == 1 && rest[0] == "withdrawals") {
        co_await platform_withdrawals(ex);
        co_return true;
    }
    if (rest.size() != 3 || rest[0] != "withdrawals" ||
        (rest[2] != "approve" && rest[2] != "reject")) {
        co_return false;
    }
    if (ex.request().method() != http::verb::post) {
        co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        co_return true;
    }
    OnchainContext* onchain = m_onchain;
    if (onchain == nullptr || onchain->withdrawals == nullptr) {
        co_await send_problem(ex, Problem::onchain_unavailable, kNoNode);
        co_return true;
    }
    const std::string id(rest[1]);
    const bool approve = rest[2] == "approve";
    auto w = co_await m_blocking.run([&] {
        return approve ? onchain->withdrawals->approve(id) : onchain->withdrawals->reject(id);
    });
    if (!w) {
        co_await send_problem(ex, problem_of(w.error().code), w.error().message);
        co_return true;
    }
    if (!ex.body_done()) ex.close_after_response();
    co_await send_text(ex, http::status::ok, json::serialize(withdrawal_json(*w)), "application/json");
    co_return true;
}

// GET lists the withdrawals of `who` (a user, or the platform); POST {"address", "amount_msat"}
// requests one through the engine, with its limits and approvals.
awaitable<void> App::withdrawals_of(Exchange& ex, OnchainContext& onchain, accounts::AccountId who) {
    if (ex.request().method() == http::verb::get) {
        if (!ex.body_done()) ex.close_after_response();
        auto list = onchain.withdrawals->list(who);
        if (!list) co_return co_await send_problem(ex, Problem::internal, "storage failure");
        json::array out;
        for (const auto& w : *list) out.push_back(withdrawal_json(w));
        json::object body;
        body["withdrawals"] = std::move(out);
        co_return co_await send_text(ex, http::status::ok, json::serialize(body), "application/json");
    }
    JsonBody request = co_await read_json_object(ex, kWithdrawalBodyBytesMax);
    if (request.connection_failed) co_return;
    if (!request.object) co_return co_await send_problem(ex, request.problem, request.detail);
    const auto address = json_string(*request.object, "address");
    const auto amount = json_int64(*request.object, "amount_msat");
    if (!address || !amount) {
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "the body must be {\"address\": string, \"amount_msat\": integer}");
    }
    // A retry with the same key answers the withdrawal the first request made (200, not 201).
    std::string key;
    if (const auto field = ex.request().find(kIdempotencyKeyHeader); field != ex.request().end()) {
        key = std::string(field->value());
        if (!onchain::is_request_key(key)) {
            co_return co_await send_problem(
                ex, Problem::bad_request,
                "Idempotency-Key must be 1 to 64 characters of A-Z a-z 0-9 - _");
        }
    }
    // On the blocking pool: the node's answers and up to the mempool wait (5 s).
    const std::string to = *address;
    const std::int64_t msat = *amount;
    auto w =
        co_await m_blocking.run([&] { return onchain.withdrawals->request(who, to, msat, key); });
    if (!w) co_return co_await send_problem(ex, problem_of(w.error().code), w.error().message);
    co_await send_text(ex, w->replayed ? http::status::ok : http::status::created,
                       json::serialize(withdrawal_json(*w)), "application/json");
}

// The operator's withdrawals of platform revenue: /api/v1/admin/withdrawals.
awaitable<void> App::platform_withdrawals(Exchange& ex) {
    const http::verb method = ex.request().method();
    if (method != http::verb::post && method != http::verb::get) {
        co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
    }
    OnchainContext* onchain = m_onchain;
    if (onchain == nullptr || onchain->withdrawals == nullptr) {
        co_return co_await send_problem(ex, Problem::onchain_unavailable, kNoNode);
    }
    co_await withdrawals_of(ex, *onchain, onchain::kPlatformAccount);
}

Result<std::unique_ptr<OnchainRuntime>, std::string> OnchainRuntime::open(const ServerOptions& options,
                                                                          ledger::Ledger& ledger,
                                                                          std::shared_ptr<store::PgDb> pg) {
    const auto network = chain::parse_network(options.network);
    if (!network) return fail("--network must be main, test or regtest");
    auto passphrase = onchain::read_seed_passphrase(options.seed_passphrase_file);
    if (!passphrase) return fail(passphrase.error());
    if (passphrase->empty() && *network == chain::Network::main) {
        return fail(std::string("refusing to start on main without a seed passphrase (--seed-passphrase-file F or "
                                "SATLOAD_SEED_PASSPHRASE)"));
    }
    // With --db postgresql://… the seed lives in the database (a data directory's older file is
    // moved in), so every instance on it derives the same deposit addresses.
    const std::filesystem::path seed_file = std::filesystem::path(options.data_dir) / onchain::kSeedFileName;
    auto seed = pg ? onchain::load_or_create_shared_seed(*pg, seed_file, *passphrase)
                   : onchain::load_or_create_seed(seed_file, *passphrase);
    crypto::secure_wipe(passphrase->data(), passphrase->size());
    if (!seed) {
        if (pg) return fail("wallet seed (database schema " + pg->schema() + "): " + seed.error().message);
        return fail("wallet seed " + seed_file.string() + ": " + seed.error().message);
    }
    if (seed->created && pg) {
        fmt::print(stderr, "created a new wallet seed in the database (schema {}; back it up with the database)\n",
                   pg->schema());
    } else if (seed->created) {
        fmt::print(stderr, "created a new wallet seed in {} (back it up with `satload admin backup`)\n",
                   seed_file.string());
    }
    if (seed->moved_in) {
        fmt::print(stderr, "moved the wallet seed of {} into the database (schema {}; the file is kept)\n",
                   seed_file.string(), pg->schema());
    }
    const chain::ExtendedKey account = onchain::account_key(seed->entropy, chain::network_params(*network));

    auto node = onchain::make_http_node_rpc(options.node_url);
    if (!node) return fail("--node: " + node.error().message);
    std::unique_ptr<onchain::ChainStore> store;
    std::unique_ptr<store::PgLease> lease;
    if (pg) {
        // Only the instance holding this lease follows the node; another takes it over within
        // a poll interval or two of the holder's death (its session ends with it).
        lease = std::make_unique<store::PgLease>(pg->conninfo(), pg->schema(), "chain-watcher");
        auto opened = onchain::PgChainStore::open(std::move(pg));
        if (!opened) return fail("cannot open the chain store: " + opened.error().message);
        store = std::move(*opened);
    } else {
        auto opened = onchain::SqliteChainStore::open(std::filesystem::path(options.data_dir) / kMetaFileName);
        if (!opened) return fail("cannot open the chain store: " + opened.error().message);
        store = std::move(*opened);
    }

    std::unique_ptr<OnchainRuntime> rt(new OnchainRuntime());
    rt->m_node = std::move(*node);
    rt->m_store = std::move(store);
    rt->m_lease = std::move(lease);
    onchain::OnchainOptions o;
    o.network = *network;
    o.confirmations = options.confirmations;
    rt->m_wallet = std::make_unique<onchain::OnchainWallet>(*rt->m_store, *rt->m_node, ledger, account, o);
    onchain::WithdrawalOptions w;
    w.fallback_fee_rate_sat_per_vb = options.fallback_feerate_sat_per_vb;
    w.max_withdrawal_sat = options.max_withdrawal_sat;
    w.daily_withdrawal_sat = options.daily_withdrawal_sat;
    rt->m_withdrawals =
        std::make_unique<onchain::WithdrawalEngine>(*rt->m_wallet, *rt->m_store, *rt->m_node, ledger, w);
    onchain::WithdrawalEngine* engine = rt->m_withdrawals.get();
    rt->m_wallet->set_after_sync([engine](std::int64_t tip) { engine->check(tip); });
    if (rt->m_lease) rt->m_wallet->set_lease([held = rt->m_lease.get()] { return held->hold(); });
    rt->m_context = OnchainContext{rt->m_wallet.get(), rt->m_withdrawals.get()};
    return rt;
}

OnchainRuntime::~OnchainRuntime() {
    if (m_wallet) m_wallet->stop();
}

void OnchainRuntime::set_safety_hooks(std::function<bool(onchain::AccountId)> is_frozen, onchain::FreezeHook freeze) {
    m_withdrawals->set_frozen_check(std::move(is_frozen));
    m_wallet->set_freeze_hook(std::move(freeze));
}

}  // namespace satload::server
