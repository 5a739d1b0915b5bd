// Trust and safety, the operator's side of the admin API: the review queue, takedown, dismiss,
// restore, freeze, unfreeze and the admin log. Every action is logged as kAdminActor.
#include <boost/json.hpp>

#include "accounts/account_service.h"
#include "server/admin.h"
#include "server/json_body.h"

namespace satload::server {
namespace {

namespace json = boost::json;

constexpr std::size_t kSafetyAdminBodyBytesMax = 8 * 1024;

std::optional<std::int64_t> parse_id(std::string_view text) {
    if (text.empty() || text.size() > 15) return std::nullopt;
    std::int64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

json::object report_json(const safety::ReportView& v) {
    json::object o;
    o["id"] = v.report.report_id;
    o["reference"] = v.report.reference;
    o["file_id"] = v.report.file_id;
    o["link"] = v.report.link;
    o["category"] = std::string(safety::category_name(v.report.category));
    o["reason"] = v.report.reason;
    o["contact"] = v.report.contact;
    o["evidence"] = v.report.evidence;
    o["created"] = v.report.created_s;
    o["taken_down"] = v.taken_down;
    o["file_exists"] = v.file.has_value();
    if (v.file) {
        if (v.file->owner) {
            o["owner"] = v.file->owner_name;
        } else {
            o["owner"] = nullptr;
        }
        o["downloads"] = v.file->downloads;
        o["earnings_msat"] = v.file->earnings_msat;
        o["sha256"] = v.file->sha256_hex;
    }
    return o;
}

// The reason text of an action's body ({"reason"}); an absent body member is an empty reason.
struct ActionBody {
    bool answered = false;
    std::string reason;
    std::optional<std::string> user;
};

awaitable<ActionBody> read_action(Exchange& ex) {
    ActionBody out;
    JsonBody body = co_await read_json_object(ex, kSafetyAdminBodyBytesMax);
    if (body.connection_failed) {
        out.answered = true;
        co_return out;
    }
    if (!body.object) {
        out.answered = true;
        co_await send_safety_problem(ex, body.problem, body.detail);
        co_return out;
    }
    out.reason = json_string(*body.object, "reason").value_or("");
    out.user = json_string(*body.object, "user");
    co_return out;
}

}  // namespace

awaitable<bool> safety_admin_route(Exchange& ex, AdminContext& admin, std::span<const std::string_view> rest) {
    const bool ours = (rest.size() == 1 && (rest[0] == "reports" || rest[0] == "log" || rest[0] == "freeze" ||
                                            rest[0] == "unfreeze")) ||
                      (rest.size() == 3 && rest[0] == "reports" && (rest[2] == "takedown" || rest[2] == "dismiss")) ||
                      (rest.size() == 3 && rest[0] == "files" && rest[2] == "restore");
    if (!ours) co_return false;
    if (admin.safety == nullptr) {
        co_await send_safety_problem(ex, Problem::not_found, "trust and safety is not enabled on this server");
        co_return true;
    }
    safety::SafetyService& safety = *admin.safety;
    const std::string who(kAdminActor);
    const http::verb method = ex.request().method();
    const bool want_get = rest.size() == 1 && (rest[0] == "reports" || rest[0] == "log");
    if (method != (want_get ? http::verb::get : http::verb::post)) {
        co_await send_safety_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        co_return true;
    }
    if (rest.size() == 1 && rest[0] == "reports") {
        auto list = safety.open_reports(safety::kListingMax);
        if (!list) {
            co_await send_safety_failure(ex, list.error());
            co_return true;
        }
        json::array reports;
        for (const auto& v : *list) reports.push_back(report_json(v));
        json::object out;
        out["reports"] = std::move(reports);
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    if (rest.size() == 1 && rest[0] == "log") {
        auto entries = safety.log(0, safety::kListingMax);
        if (!entries) {
            co_await send_safety_failure(ex, entries.error());
            co_return true;
        }
        json::array list;
        for (const auto& e : *entries) {
            json::object o;
            o["seq"] = e.seq;
            o["at"] = e.at_s;
            o["who"] = e.who;
            o["action"] = e.action;
            o["target"] = e.target;
            o["why"] = e.why;
            list.push_back(std::move(o));
        }
        json::object out;
        out["entries"] = std::move(list);
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    ActionBody body = co_await read_action(ex);
    if (body.answered) co_return true;
    if (rest[0] == "freeze" || rest[0] == "unfreeze") {
        if (!body.user || admin.accounts == nullptr) {
            co_await send_safety_problem(ex, Problem::bad_request, "the body must be {\"user\", \"reason\"}");
            co_return true;
        }
        const auto normalized = accounts::normalize_username(*body.user);
        auto account = normalized ? admin.accounts->find_account(*normalized)
                                  : accounts::StoreResult<std::optional<accounts::AccountRecord>>(std::nullopt);
        if (!account) {
            co_await send_safety_problem(ex, Problem::internal, "storage failure");
            co_return true;
        }
        if (!*account) {
            co_await send_safety_problem(ex, Problem::not_found, "no such user: " + *body.user);
            co_return true;
        }
        const bool freeze = rest[0] == "freeze";
        auto done = freeze ? safety.freeze((*account)->account_id, (*account)->username, body.reason, who)
                           : safety.unfreeze((*account)->account_id, (*account)->username, body.reason, who);
        if (!done) {
            co_await send_safety_failure(ex, done.error());
            co_return true;
        }
        json::object out;
        out["user"] = (*account)->username;
        out["frozen"] = freeze;
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    if (rest[0] == "files") {
        auto restored = safety.restore(std::string(rest[1]), body.reason, who);
        if (!restored) {
            co_await send_safety_failure(ex, restored.error());
            co_return true;
        }
        json::object out;
        out["file_id"] = restored->file_id;
        out["restored"] = restored->restored_s;
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    const auto report_id = parse_id(rest[1]);
    if (!report_id) {
        co_await send_safety_problem(ex, Problem::not_found, "no such report");
        co_return true;
    }
    if (rest[2] == "takedown") {
        auto done = safety.takedown(*report_id, body.reason, who);
        if (!done) {
            co_await send_safety_failure(ex, done.error());
            co_return true;
        }
        json::object out;
        out["report"] = *report_id;
        out["file_id"] = done->takedown.file_id;
        out["sha256"] = done->takedown.sha256_hex;
        out["strikes"] = done->strikes;
        out["suspended"] = done->takedown.owner ? safety.is_suspended(*done->takedown.owner) : false;
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    auto dismissed = safety.dismiss(*report_id, body.reason, who);
    if (!dismissed) {
        co_await send_safety_failure(ex, dismissed.error());
        co_return true;
    }
    json::object out;
    out["report"] = *report_id;
    out["state"] = "dismissed";
    co_await send_safety_json(ex, http::status::ok, json::serialize(out));
    co_return true;
}

}  // namespace satload::server
