// Trust and safety, the public and owner side: POST /api/v1/reports (anyone), the owner's
// notices and counter-notices, and the refusals the download, upload and payment paths give
// for a taken-down file, a suspended uploader or a frozen wallet.
#include <boost/json.hpp>

#include "server/admin.h"
#include "server/app.h"
#include "server/client_limits.h"
#include "server/json_body.h"
#include "server/session_cookie.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// A report is a link and a few short texts: every field's own limit fits well inside this.
constexpr std::size_t kReportBodyBytesMax = 16 * 1024;
constexpr std::size_t kCounterNoticeBodyBytesMax = 12 * 1024;

awaitable<void> send_response(Exchange& ex, StringResponse res) {
    if (!ex.body_done()) ex.close_after_response();
    co_await ex.send(std::move(res));
}

}  // namespace

awaitable<void> send_safety_problem(Exchange& ex, Problem problem, std::string_view detail) {
    StringResponse res = App::problem_response(ex.request().version(), ex.keep_alive(), problem, detail);
    co_await send_response(ex, std::move(res));
}

awaitable<void> send_safety_json(Exchange& ex, http::status status, std::string body) {
    StringResponse res{status, ex.request().version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(ex.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    co_await send_response(ex, std::move(res));
}

awaitable<void> send_safety_failure(Exchange& ex, const safety::SafetyFailure& failure) {
    using safety::SafetyError;
    if (failure.code == SafetyError::rate_limited) {
        co_return co_await send_too_many_requests(ex, failure.retry_after_s, failure.message);
    }
    Problem problem = Problem::internal;
    switch (failure.code) {
        case SafetyError::invalid: problem = Problem::bad_request; break;
        case SafetyError::not_found: problem = Problem::not_found; break;
        case SafetyError::conflict: problem = Problem::conflict; break;
        case SafetyError::rate_limited: problem = Problem::bad_request; break;  // answered above
        case SafetyError::storage: problem = Problem::internal; break;
    }
    // A store failure's message is for the log, not for the client.
    const std::string detail = failure.code == SafetyError::storage ? "storage failure" : failure.message;
    co_await send_safety_problem(ex, problem, detail);
}

awaitable<void> post_report(Exchange& ex, safety::SafetyService& safety, const std::string& client_address) {
    JsonBody body = co_await read_json_object(ex, kReportBodyBytesMax);
    if (body.connection_failed) co_return;
    if (!body.object) co_return co_await send_safety_problem(ex, body.problem, body.detail);
    const json::object& o = *body.object;
    for (const auto& member : o) {
        const std::string_view key = member.key();
        if (key != "link" && key != "file_id" && key != "category" && key != "reason" && key != "contact" &&
            key != "evidence") {
            co_return co_await send_safety_problem(ex, Problem::bad_request,
                                                   "unknown member \"" + std::string(key.substr(0, 40)) + "\"");
        }
        if (!member.value().is_string()) {
            co_return co_await send_safety_problem(ex, Problem::bad_request,
                                                   std::string(key) + " must be a string");
        }
    }
    safety::ReportInput input;
    input.link = json_string(o, "link").value_or("");
    input.file_id = json_string(o, "file_id").value_or("");
    input.category = json_string(o, "category").value_or("");
    input.reason = json_string(o, "reason").value_or("");
    input.contact = json_string(o, "contact").value_or("");
    input.evidence = json_string(o, "evidence").value_or("");
    auto stored = safety.report(input, client_address);
    // The parsed body may hold the link's key: wipe it before anything else happens.
    crypto::secure_wipe(input.link.data(), input.link.size());
    if (!stored) co_return co_await send_safety_failure(ex, stored.error());
    json::object out;
    out["reference"] = stored->reference;
    out["file_id"] = stored->file_id;
    out["category"] = std::string(safety::category_name(stored->category));
    co_await send_safety_json(ex, http::status::created, json::serialize(out));
}

awaitable<void> account_notices(Exchange& ex, safety::SafetyService& safety, safety::AccountId account,
                                std::span<const std::string_view> rest) {
    const http::verb method = ex.request().method();
    if (rest.empty()) {
        if (method != http::verb::get) {
            co_return co_await send_safety_problem(ex, Problem::method_not_allowed,
                                                   "this method is not allowed on this resource");
        }
        auto list = safety.notices(account);
        if (!list) co_return co_await send_safety_failure(ex, list.error());
        json::array notices;
        for (const auto& n : *list) {
            json::object item;
            item["id"] = n.notice_id;
            item["file_id"] = n.file_id;
            item["text"] = n.text;
            item["created"] = n.created_s;
            if (n.counter_s != 0) {
                item["counter_notice"] = n.counter_text;
                item["counter_created"] = n.counter_s;
            }
            notices.push_back(std::move(item));
        }
        json::object out;
        out["notices"] = std::move(notices);
        co_return co_await send_safety_json(ex, http::status::ok, json::serialize(out));
    }
    if (rest.size() == 2 && rest[1] == "counter") {
        if (method != http::verb::post) {
            co_return co_await send_safety_problem(ex, Problem::method_not_allowed,
                                                   "this method is not allowed on this resource");
        }
        std::int64_t notice_id = 0;
        for (const char c : rest[0]) {
            if (c < '0' || c > '9' || notice_id > 1'000'000'000'000) {
                co_return co_await send_safety_problem(ex, Problem::not_found, "no such notice");
            }
            notice_id = notice_id * 10 + (c - '0');
        }
        JsonBody body = co_await read_json_object(ex, kCounterNoticeBodyBytesMax);
        if (body.connection_failed) co_return;
        if (!body.object) co_return co_await send_safety_problem(ex, body.problem, body.detail);
        const auto text = json_string(*body.object, "text");
        if (!text) co_return co_await send_safety_problem(ex, Problem::bad_request, "the body must be {\"text\"}");
        auto filed = safety.counter_notice(account, notice_id, *text);
        if (!filed) co_return co_await send_safety_failure(ex, filed.error());
        json::object out;
        out["id"] = filed->notice_id;
        out["file_id"] = filed->file_id;
        out["counter_created"] = filed->counter_s;
        co_return co_await send_safety_json(ex, http::status::ok, json::serialize(out));
    }
    co_await send_safety_problem(ex, Problem::not_found, "no such resource");
}

awaitable<bool> send_safety_refusal(Exchange& ex, const safety::SafetyService& safety, const std::string& file_id) {
    const auto takedown = safety.takedown_of(file_id);
    if (!takedown) co_return false;
    // The catalogue's 410 with the reason code a client can act on ("taken-down" with the
    // report's category, or "account-suspended"); the operator's free text stays in the record.
    StringResponse res =
        App::problem_response(ex.request().version(), ex.keep_alive(), Problem::gone,
                              takedown->kind == safety::BlockKind::taken_down
                                  ? "this file was taken down after a report"
                                  : "this file's owner is suspended");
    json::value body = json::parse(res.body());
    body.as_object()["reason"] = std::string(safety::block_kind_code(takedown->kind));
    if (takedown->kind == safety::BlockKind::taken_down) {
        body.as_object()["category"] = std::string(safety::category_name(takedown->category));
    }
    res.body() = json::serialize(body);
    res.prepare_payload();
    co_await send_response(ex, std::move(res));
    co_return true;
}

awaitable<bool> send_frozen_refusal(Exchange& ex, const safety::SafetyService& safety, safety::AccountId payer) {
    if (!safety.is_frozen(payer)) co_return false;
    co_await send_safety_problem(ex, Problem::wallet_frozen, "this wallet is frozen: it cannot pay or withdraw");
    co_return true;
}

awaitable<bool> send_suspended_refusal(Exchange& ex, const safety::SafetyService& safety,
                                       safety::AccountId uploader) {
    if (!safety.is_suspended(uploader)) co_return false;
    co_await send_safety_problem(ex, Problem::forbidden, "this account is suspended: it cannot upload");
    co_return true;
}

}  // namespace satload::server

// The App's entry points (declared in app.h), translating its context to the handlers above.
namespace satload::server {
namespace {


}  // namespace

awaitable<void> App::report(Exchange& ex) {
    if (m_admin == nullptr || m_admin->safety == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    const std::string address = client_address(ex.request(), m_options.trust_proxy, ex.peer_address());
    co_await post_report(ex, *m_admin->safety, address);
}

awaitable<void> App::notices_route(Exchange& ex, std::span<const std::string_view> rest) {
    if (m_admin == nullptr || m_admin->safety == nullptr || m_accounts == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    co_await account_notices(ex, *m_admin->safety, caller.principal->account_id, rest);
}

awaitable<bool> App::safety_file_gate(Exchange& ex, const std::string& file_id) {
    if (m_admin == nullptr || m_admin->safety == nullptr) co_return false;
    co_return co_await send_safety_refusal(ex, *m_admin->safety, file_id);
}

awaitable<bool> App::safety_upload_gate(Exchange& ex) {
    if (m_admin == nullptr || m_admin->safety == nullptr || m_accounts == nullptr) co_return false;
    if (!has_session_credential(ex.request())) co_return false;
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return true;
    if (!caller.principal) co_return false;
    co_return co_await send_suspended_refusal(ex, *m_admin->safety, caller.principal->account_id);
}

awaitable<bool> App::safety_pay_gate(Exchange& ex) {
    if (m_admin == nullptr || m_admin->safety == nullptr || m_accounts == nullptr) co_return false;
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return true;
    if (!caller.principal) co_return false;  // pay() answers 401
    co_return co_await send_frozen_refusal(ex, *m_admin->safety, caller.principal->account_id);
}

}  // namespace satload::server
