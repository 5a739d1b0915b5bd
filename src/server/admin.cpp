// The admin API under /api/v1/admin/: bearer-token authentication (only the token's SHA-256 is
// kept, compared in constant time), the ledger audit and the online backup.
#include <boost/json.hpp>
#include <map>
#include <mutex>

#include "ledger/accounts.h"
#include "server/admin.h"
#include "server/app.h"
#include "server/json_body.h"
#include "server/onchain_api.h"
#include "server/session_cookie.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// The largest admin request body (a JSON object naming a directory).
constexpr std::size_t kAdminBodyBytesMax = 8 * 1024;



// True when the request carries the admin token. Hashing first makes the comparison's length
// and timing independent of the presented value.
bool authorized(const Request& req, const AdminContext& admin) {
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    const auto token = bearer_token(it->value());
    if (!token) return false;
    crypto::Sha256Digest presented = crypto::sha256(as_bytes(*token));
    const bool ok = crypto::constant_time_equal(presented, admin.token_sha256);
    crypto::secure_wipe(presented);
    return ok;
}

}  // namespace

std::string audit_json(const ledger::AuditReport& report) {
    json::object body;
    body["passed"] = report.passed();
    json::array checks;
    for (const auto& c : report.checks) {
        json::object check;
        check["name"] = c.name;
        check["passed"] = c.passed;
        check["detail"] = c.detail;
        checks.push_back(std::move(check));
    }
    body["checks"] = std::move(checks);
    body["entries"] = report.entries;
    body["accounts"] = report.accounts;
    if (report.first_bad_seq) body["first_bad_seq"] = *report.first_bad_seq;
    return json::serialize(body);
}

awaitable<void> App::admin_route(Exchange& ex, std::span<const std::string_view> rest) {
    AdminContext* admin = m_admin;
    if (admin == nullptr) co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    // One answer for a missing and a wrong token, before any routing, so that nothing about
    // the admin API is learned without the token.
    if (!authorized(ex.request(), *admin)) {
        co_return co_await send_problem(ex, Problem::unauthorized, "the admin API needs the admin token");
    }
    const http::verb method = ex.request().method();
    if (rest.size() == 1 && rest[0] == "audit") {
        if (method != http::verb::get) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        co_return co_await admin_audit(ex, *admin);
    }
    if (rest.size() == 1 && rest[0] == "balances") {
        if (method != http::verb::get) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        // The system accounts' committed balances (credit side), for operators and tests.
        json::object body;
        for (const auto& system : ledger::system_accounts()) {
            const auto a = admin->ledger.lookup_account(system.id);
            body[std::string(ledger::account_kind_name(system.kind)) + "_msat"] = a ? a->balance_msat() : 0;
        }
        co_return co_await send_text(ex, http::status::ok, json::serialize(body), "application/json");
    }
    if (rest.size() == 1 && rest[0] == "quota") {
        if (method != http::verb::post) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        co_return co_await admin_quota(ex, *admin);
    }
    if (rest.size() == 1 && rest[0] == "credit") {
        if (method != http::verb::post) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        co_return co_await admin_credit(ex, *admin);
    }
    if (rest.size() == 1 && rest[0] == "backup") {
        if (method != http::verb::post) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        co_return co_await admin_backup(ex, *admin);
    }
    // Trust and safety (safety_admin.cpp): reports, takedown, dismiss, restore, freeze, log.
    if (co_await safety_admin_route(ex, *admin, rest)) co_return;
    // Bitcoin withdrawals held above the hot-wallet limits (onchain_api.cpp).
    if (co_await onchain_admin_route(ex, rest)) co_return;
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

// POST /api/v1/admin/credit {"user", "amount_msat", "reason", "id"}: the operator's adjustment
// into a user's wallet. `id` (32 hex digits) is the idempotency id the CLI keeps for retries.
// Blocks this Asio thread for one durable ledger commit.
awaitable<void> App::admin_credit(Exchange& ex, AdminContext& admin) {
    JsonBody body = co_await read_json_object(ex, kAdminBodyBytesMax);
    if (body.connection_failed) co_return;
    if (!body.object) co_return co_await send_problem(ex, body.problem, body.detail);
    if (admin.wallets == nullptr || admin.accounts == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "wallets are not enabled on this server");
    }
    const auto user = json_string(*body.object, "user");
    const auto amount = json_int64(*body.object, "amount_msat");
    const auto reason = json_string(*body.object, "reason").value_or("");
    const auto id_text = json_string(*body.object, "id");
    const auto id = id_text ? ledger::parse_id_hex(*id_text) : std::nullopt;
    if (!user || !amount || !id || id->is_zero()) {
        co_return co_await send_problem(
            ex, Problem::bad_request,
            "the body must be {\"user\", \"amount_msat\": integer, \"reason\", \"id\": 32 hex digits}");
    }
    const auto normalized = accounts::normalize_username(*user);
    auto account = normalized ? admin.accounts->find_account(*normalized)
                              : accounts::StoreResult<std::optional<accounts::AccountRecord>>(std::nullopt);
    if (!account) co_return co_await send_problem(ex, Problem::internal, "storage failure");
    if (!*account) co_return co_await send_problem(ex, Problem::not_found, "no such user: " + *user);
    const std::optional<Msat> money = Msat{*amount};
    if (money->value <= 0 || !within_supply(*money)) {
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "amount_msat must be above zero and at most the bitcoin supply");
    }
    auto receipt = admin.wallets->credit((*account)->account_id, *money, reason, *id);
    if (!receipt) {
        const auto& f = receipt.error();
        const Problem p = f.code == payments::WalletError::ledger_unavailable ? Problem::unavailable
                          : f.code == payments::WalletError::refused          ? Problem::conflict
                                                                              : Problem::bad_request;
        co_return co_await send_problem(ex, p, f.message);
    }
    json::object out;
    out["user"] = (*account)->username;
    out["transfer_id"] = ledger::id_hex(receipt->transfer_id);
    out["applied"] = receipt->applied_now;
    out["amount_msat"] = money->value;
    out["balance_msat"] = receipt->balance.balance_msat;
    co_await send_text(ex, http::status::ok, json::serialize(out), "application/json");
}

// POST /api/v1/admin/quota {"user", "quota_bytes": integer | null}: one account's storage quota
// (null: the server's default again). Answers {"user", "quota_bytes" (null: default)}.
awaitable<void> App::admin_quota(Exchange& ex, AdminContext& admin) {
    JsonBody body = co_await read_json_object(ex, kAdminBodyBytesMax);
    if (body.connection_failed) co_return;
    if (!body.object) co_return co_await send_problem(ex, body.problem, body.detail);
    if (admin.accounts == nullptr) co_return co_await send_problem(ex, Problem::not_found, "accounts are not enabled");
    const auto user = json_string(*body.object, "user");
    const json::value* q = body.object->if_contains("quota_bytes");
    const auto bytes = json_int64(*body.object, "quota_bytes");
    if (!user || q == nullptr || (!q->is_null() && (!bytes || *bytes < 0))) {
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "the body must be {\"user\", \"quota_bytes\": integer >= 0 or null}");
    }
    const auto normalized = accounts::normalize_username(*user);
    auto account = normalized ? admin.accounts->find_account(*normalized)
                              : accounts::StoreResult<std::optional<accounts::AccountRecord>>(std::nullopt);
    if (!account) co_return co_await send_problem(ex, Problem::internal, "storage failure");
    if (!*account) co_return co_await send_problem(ex, Problem::not_found, "no such user: " + *user);
    std::optional<std::uint64_t> quota;
    if (bytes) quota = static_cast<std::uint64_t>(*bytes);
    if (!admin.accounts->set_quota_override((*account)->account_id, quota)) {
        co_return co_await send_problem(ex, Problem::internal, "storage failure");
    }
    json::object out;
    out["user"] = (*account)->username;
    if (quota) {
        out["quota_bytes"] = *quota;
    } else {
        out["quota_bytes"] = nullptr;
    }
    co_await send_text(ex, http::status::ok, json::serialize(out), "application/json");
}

// Blocks this Asio thread for the audit's full journal scan. Acceptable for an operator
// command for now (other threads keep serving); later it belongs on a worker pool.
awaitable<void> App::admin_audit(Exchange& ex, AdminContext& admin) {
    ledger::AuditReport report = admin.ledger.audit();
    // With a bitcoin node: the chain's deposit records against the ledger's credits.
    if (const OnchainContext* onchain = m_onchain;
        onchain != nullptr && onchain->wallet != nullptr) {
        report.checks.push_back(onchain->wallet->audit_deposits());
    }
    co_await send_text(ex, http::status::ok, audit_json(report), "application/json");
}

// Blocks this Asio thread while the backup copies the databases and links the blobs (see
// admin_audit). The ledger part runs in the ledger's writer between batches.
awaitable<void> App::admin_backup(Exchange& ex, AdminContext& admin) {
    JsonBody body = co_await read_json_object(ex, kAdminBodyBytesMax);
    if (body.connection_failed) co_return;
    if (!body.object) co_return co_await send_problem(ex, body.problem, body.detail);
    const json::value* dir = body.object->if_contains("dir");
    if (dir == nullptr || !dir->is_string() || dir->as_string().empty()) {
        co_return co_await send_problem(ex, Problem::bad_request, "the body must be {\"dir\": \"/absolute/path\"}");
    }
    if (admin.meta == nullptr || admin.blobs_root.empty()) {
        co_return co_await send_problem(ex, Problem::conflict,
                                        "this server keeps its data in PostgreSQL or an object store: back them "
                                        "up with their own tools (pg_dump or base backups, bucket replication)");
    }
    auto manifest = write_backup(std::filesystem::path(std::string(dir->as_string())), admin.ledger, *admin.meta,
                                 admin.blobs_root);
    if (!manifest) {
        switch (manifest.error().code) {
            case BackupError::target_not_empty:
                co_return co_await send_problem(ex, Problem::conflict, manifest.error().message);
            case BackupError::target_invalid:
                co_return co_await send_problem(ex, Problem::bad_request, manifest.error().message);
            default:
                co_return co_await send_problem(ex, Problem::internal, manifest.error().message);
        }
    }
    co_await send_text(ex, http::status::ok, std::move(*manifest), "application/json");
}

}  // namespace satload::server
