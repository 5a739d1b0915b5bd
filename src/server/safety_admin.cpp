// Trust and safety, the operator's side of the admin API: the review queue, takedown, dismiss,
// claim, restore, freeze, unfreeze, the admin log and the transparency report. Every action is
// logged with the actor the Satload-Admin-Actor header names (asserted by the holder of the
// admin token, not authenticated separately), else kAdminActor. Resolving a copyright report
// settles the file's held earnings through the paywall (released, or redirected to a claimant).
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "accounts/account_service.h"
#include "core/check.h"
#include "safety/transparency.h"
#include "server/admin.h"
#include "server/blocking.h"
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
        o["held_msat"] = v.file->held_msat;
        o["sha256"] = v.file->sha256_hex;
    }
    return o;
}

// The reason text of an action's body ({"reason"}); an absent body member is an empty reason.
// "user" names the account of a freeze; "claimant" the rights holder of a claim (or of a
// takedown that redirects earnings), "include_held" whether held earnings go to them too.
struct ActionBody {
    bool answered = false;
    std::string reason;
    std::optional<std::string> user;
    std::optional<std::string> claimant;
    bool include_held = false;
};

// The admin log's "who": the header's login name, kAdminActor without one, nullopt when the
// header is malformed.
std::optional<std::string> actor_of(const Request& req) {
    const auto it = req.find(kAdminActorHeader);
    if (it == req.end()) return std::string(kAdminActor);
    const std::string_view name = it->value();
    if (!safety::is_admin_actor_name(name)) return std::nullopt;
    return std::string(name);
}

json::object category_counts(const safety::CategoryCounts& counts) {
    json::object o;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < safety::kCategoryCount; ++i) {
        o[std::string(safety::category_name(static_cast<safety::Category>(i)))] = counts[i];
        total += counts[i];
    }
    o["total"] = total;
    return o;
}

json::object transparency_json(const safety::TransparencyCounts& c, std::int64_t until_s) {
    json::object o;
    o["since"] = c.since_s;
    o["until"] = until_s;
    o["reports"] = category_counts(c.reports);
    o["takedowns"] = category_counts(c.takedowns);
    o["reinstatements"] = category_counts(c.reinstatements);
    o["dismissals"] = category_counts(c.dismissals);
    o["claims"] = category_counts(c.claims);
    o["suspensions"] = c.suspensions;
    o["unsuspensions"] = c.unsuspensions;
    o["freezes"] = c.freezes;
    o["unfreezes"] = c.unfreezes;
    return o;
}

json::object settlement_json(const payments::HoldSettlement& h) {
    json::object o;
    o["released"] = h.released;
    o["released_msat"] = h.released_msat;
    o["redirected"] = h.redirected;
    o["redirected_msat"] = h.redirected_msat;
    o["still_held"] = h.still_held;
    return o;
}

// The account named `name`; answers (and returns nullopt) when there is none.
awaitable<std::optional<accounts::AccountRecord>> find_user(Exchange& ex, AdminContext& admin,
                                                            const std::string& name) {
    if (admin.accounts == nullptr) {
        co_await send_safety_problem(ex, Problem::not_found, "accounts are not enabled on this server");
        co_return std::nullopt;
    }
    const auto normalized = accounts::normalize_username(name);
    auto account = normalized ? admin.accounts->find_account(*normalized)
                              : accounts::StoreResult<std::optional<accounts::AccountRecord>>(std::nullopt);
    if (!account) {
        co_await send_safety_problem(ex, Problem::internal, "storage failure");
        co_return std::nullopt;
    }
    if (!*account) {
        co_await send_safety_problem(ex, Problem::not_found, "no such user: " + name);
        co_return std::nullopt;
    }
    co_return std::move(**account);
}

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
    out.claimant = json_string(*body.object, "claimant");
    if (const auto* held = body.object->if_contains("include_held")) {
        if (!held->is_bool()) {
            out.answered = true;
            co_await send_safety_problem(ex, Problem::bad_request, "include_held must be true or false");
            co_return out;
        }
        out.include_held = held->as_bool();
    }
    co_return out;
}

// Settles the file's held earnings after its report was resolved (a no-op without a paywall).
// A failure leaves them held: the next action on the file, or the next start, settles them.
// On the blocking pool: the settlement takes the paywall's hold lock exclusively, so it waits
// for the payments in flight, which finish on the event loops (this one too).
awaitable<payments::HoldSettlement> settle_file(AdminContext& admin, const std::string& file_id) {
    if (admin.paywall == nullptr) co_return payments::HoldSettlement{};
    // Never on the loop itself, not even as a fallback: that is the wait described above.
    SATLOAD_ASSERT(admin.blocking != nullptr);
    payments::Paywall& paywall = *admin.paywall;
    auto settled = co_await admin.blocking->run(
        [&paywall, &file_id] { return paywall.settle_holds(file_id); });
    if (!settled) {
        payments::HoldSettlement left;
        left.still_held = true;
        co_return left;
    }
    co_return *settled;
}

awaitable<void> send_transparency(Exchange& ex, safety::SafetyService& safety) {
    auto url = boost::urls::parse_origin_form(ex.request().target());
    std::optional<std::int64_t> since;
    if (url) {
        const auto params = url->params();
        if (const auto it = params.find("since"); it != params.end() && (*it).has_value) {
            since = safety::parse_since(std::string((*it).value));
        }
    }
    if (!since) {
        co_await send_safety_problem(ex, Problem::bad_request,
                                     "since must be a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
        co_return;
    }
    auto counts = safety.transparency(*since);
    if (!counts) {
        co_await send_safety_failure(ex, counts.error());
        co_return;
    }
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    co_await send_safety_json(ex, http::status::ok, json::serialize(transparency_json(*counts, now_s)));
}

}  // namespace

awaitable<bool> safety_admin_route(Exchange& ex, AdminContext& admin, std::span<const std::string_view> rest) {
    const bool listing = rest.size() == 1 && (rest[0] == "reports" || rest[0] == "log" || rest[0] == "transparency");
    const bool ours = listing || (rest.size() == 1 && (rest[0] == "freeze" || rest[0] == "unfreeze")) ||
                      (rest.size() == 3 && rest[0] == "reports" &&
                       (rest[2] == "takedown" || rest[2] == "dismiss" || rest[2] == "claim")) ||
                      (rest.size() == 3 && rest[0] == "files" && rest[2] == "restore");
    if (!ours) co_return false;
    if (admin.safety == nullptr) {
        co_await send_safety_problem(ex, Problem::not_found, "trust and safety is not enabled on this server");
        co_return true;
    }
    safety::SafetyService& safety = *admin.safety;
    const http::verb method = ex.request().method();
    if (method != (listing ? http::verb::get : http::verb::post)) {
        co_await send_safety_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
        co_return true;
    }
    const auto actor = actor_of(ex.request());
    if (!actor) {
        co_await send_safety_problem(ex, Problem::bad_request,
                                     std::string(kAdminActorHeader) + " must be a login name: 1 to " +
                                         std::to_string(safety::kAdminNameCharsMax) + " of A-Z a-z 0-9 . _ -");
        co_return true;
    }
    const std::string& who = *actor;
    if (rest.size() == 1 && rest[0] == "transparency") {
        co_await send_transparency(ex, safety);
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
        if (!body.user) {
            co_await send_safety_problem(ex, Problem::bad_request, "the body must be {\"user\", \"reason\"}");
            co_return true;
        }
        auto account = co_await find_user(ex, admin, *body.user);
        if (!account) co_return true;
        const bool freeze = rest[0] == "freeze";
        auto done = freeze ? safety.freeze(account->account_id, account->username, body.reason, who)
                           : safety.unfreeze(account->account_id, account->username, body.reason, who);
        if (!done) {
            co_await send_safety_failure(ex, done.error());
            co_return true;
        }
        json::object out;
        out["user"] = account->username;
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
    // A claim (or a takedown naming a claimant) records the redirect before the report is
    // resolved: a payment in between is still held, and its settlement follows the redirect.
    std::optional<accounts::AccountRecord> claimant;
    if (rest[2] == "claim" || (rest[2] == "takedown" && body.claimant)) {
        if (!body.claimant) {
            co_await send_safety_problem(ex, Problem::bad_request,
                                         "the body must be {\"claimant\", \"reason\", \"include_held\"}");
            co_return true;
        }
        if (admin.paywall == nullptr) {
            co_await send_safety_problem(ex, Problem::not_found, "paid downloads are not enabled on this server");
            co_return true;
        }
        auto checked = safety.check_claim(*report_id);
        if (!checked) {
            co_await send_safety_failure(ex, checked.error());
            co_return true;
        }
        claimant = co_await find_user(ex, admin, *body.claimant);
        if (!claimant) co_return true;
        if (auto r = admin.paywall->redirect_earnings(checked->file_id, claimant->account_id, body.include_held);
            !r) {
            co_await send_safety_problem(ex, Problem::internal, "storage failure");
            co_return true;
        }
    }
    if (rest[2] == "takedown") {
        auto done = safety.takedown(*report_id, body.reason, who);
        if (!done) {
            co_await send_safety_failure(ex, done.error());
            co_return true;
        }
        if (claimant) {
            if (auto noted = safety.note_redirect(*report_id, done->takedown.file_id, claimant->username,
                                                  body.include_held, who);
                !noted) {
                co_await send_safety_failure(ex, noted.error());
                co_return true;
            }
        }
        json::object out;
        out["report"] = *report_id;
        out["file_id"] = done->takedown.file_id;
        out["sha256"] = done->takedown.sha256_hex;
        out["strikes"] = done->strikes;
        out["suspended"] = done->takedown.owner ? safety.is_suspended(*done->takedown.owner) : false;
        if (claimant) out["claimant"] = claimant->username;
        const std::string file_id = done->takedown.file_id;
        const payments::HoldSettlement held = co_await settle_file(admin, file_id);
        out["held"] = settlement_json(held);
        co_await send_safety_json(ex, http::status::ok, json::serialize(out));
        co_return true;
    }
    if (rest[2] == "claim") {
        auto done = safety.claim(*report_id, claimant->username, body.include_held, body.reason, who);
        if (!done) {
            co_await send_safety_failure(ex, done.error());
            co_return true;
        }
        json::object out;
        out["report"] = *report_id;
        out["file_id"] = done->file_id;
        out["state"] = "upheld";
        out["claimant"] = claimant->username;
        out["include_held"] = body.include_held;
        const std::string file_id = done->file_id;
        const payments::HoldSettlement held = co_await settle_file(admin, file_id);
        out["held"] = settlement_json(held);
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
    const std::string file_id = dismissed->file_id;
    const payments::HoldSettlement held = co_await settle_file(admin, file_id);
    out["held"] = settlement_json(held);
    co_await send_safety_json(ex, http::status::ok, json::serialize(out));
    co_return true;
}

}  // namespace satload::server
