// The admin API under /api/v1/admin/: bearer-token authentication (only the token's SHA-256 is
// kept, compared in constant time), the ledger audit and the online backup.
#include <boost/json.hpp>
#include <map>
#include <mutex>

#include "server/admin.h"
#include "server/app.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// The largest admin request body (a JSON object naming a directory).
constexpr std::size_t kAdminBodyBytesMax = 8 * 1024;
constexpr std::string_view kBearerPrefix = "Bearer ";



// True when the request carries the admin token. Hashing first makes the comparison's length
// and timing independent of the presented value.
bool authorized(const Request& req, const AdminContext& admin) {
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    const std::string_view value = it->value();
    if (value.size() <= kBearerPrefix.size() || value.substr(0, kBearerPrefix.size()) != kBearerPrefix) {
        return false;
    }
    crypto::Sha256Digest presented = crypto::sha256(as_bytes(value.substr(kBearerPrefix.size())));
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
    if (rest.size() == 1 && rest[0] == "backup") {
        if (method != http::verb::post) {
            co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        }
        co_return co_await admin_backup(ex, *admin);
    }
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

// Blocks this Asio thread for the audit's full journal scan. Acceptable for an operator
// command for now (other threads keep serving); later it belongs on a worker pool.
awaitable<void> App::admin_audit(Exchange& ex, AdminContext& admin) {
    const ledger::AuditReport report = admin.ledger.audit();
    co_await send_text(ex, http::status::ok, audit_json(report), "application/json");
}

// Blocks this Asio thread while the backup copies the databases and links the blobs (see
// admin_audit). The ledger part runs in the ledger's writer between batches.
awaitable<void> App::admin_backup(Exchange& ex, AdminContext& admin) {
    if (ex.content_length() && *ex.content_length() > kAdminBodyBytesMax) {
        co_return co_await send_problem(ex, Problem::payload_too_large, "the request body is too large");
    }
    std::string body;
    std::array<std::uint8_t, 1024> buffer{};
    for (;;) {
        const auto n = co_await ex.read_body(buffer);
        if (!n) co_return;  // the connection failed; nothing to answer
        if (*n == 0) break;
        body.append(reinterpret_cast<const char*>(buffer.data()), *n);
        if (body.size() > kAdminBodyBytesMax) {
            co_return co_await send_problem(ex, Problem::payload_too_large, "the request body is too large");
        }
    }
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    const json::value* dir = (!ec && v.is_object()) ? v.as_object().if_contains("dir") : nullptr;
    if (dir == nullptr || !dir->is_string() || dir->as_string().empty()) {
        co_return co_await send_problem(ex, Problem::bad_request, "the body must be {\"dir\": \"/absolute/path\"}");
    }
    auto manifest = write_backup(std::filesystem::path(std::string(dir->as_string())), admin.ledger, admin.meta,
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
