// Routing and the small handlers (health, metrics, API); the web app's pages are in web.cpp.
#include "server/app.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <ctime>

#include "core/ids.h"
#include "server/admin.h"
#include "server/request_path.h"

namespace satload::server {

std::string http_date(std::int64_t unix_s) {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

App::App(const ServerOptions& options, files::UploadService& uploads, files::FileService& files,
         Metrics& metrics)
    : m_options(options), m_uploads(uploads), m_files(files), m_metrics(metrics) {}

StringResponse App::problem_response(unsigned version, bool keep_alive, Problem problem,
                                     std::string_view detail) {
    const ProblemInfo& info = problem_info(problem);
    StringResponse res{static_cast<http::status>(info.status), version};
    res.set(http::field::content_type, "application/problem+json");
    res.set(http::field::cache_control, "no-store");
    res.set("Tus-Resumable", "1.0.0");
    res.keep_alive(keep_alive);
    res.body() = problem_json(problem, detail);
    res.prepare_payload();
    return res;
}

awaitable<void> App::send_problem(Exchange& ex, Problem problem, std::string_view detail) {
    const Request& req = ex.request();
    // A request whose body we did not read cannot be followed on this connection.
    if (!ex.body_done()) ex.close_after_response();
    co_await ex.send(problem_response(req.version(), ex.keep_alive(), problem, detail));
}

awaitable<void> App::send_text(Exchange& ex, http::status status, std::string body,
                               std::string_view content_type) {
    const Request& req = ex.request();
    StringResponse res{status, req.version()};
    res.set(http::field::content_type, content_type);
    res.keep_alive(ex.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    co_await ex.send(std::move(res));
}

std::string App::base_url(const Exchange& ex) const {
    if (!m_options.public_url.empty()) {
        std::string base = m_options.public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        return base;
    }
    return ex.base_url();
}

awaitable<void> App::handle(Exchange& ex) {
    const Request& req = ex.request();
    const std::string_view target = req.target();
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        co_await send_problem(ex, Problem::bad_request, "the request target is not a valid path");
        co_return;
    }
    const auto segments = plain_segments(url->encoded_path());
    if (!segments) {
        co_await send_problem(ex, Problem::not_found, "no such resource");
        co_return;
    }
    const auto& seg = *segments;
    const http::verb method = req.method();
    auto is = [&](std::initializer_list<std::string_view> want) {
        if (want.size() != seg.size()) return false;
        std::size_t i = 0;
        for (const auto w : want) {
            if (!w.empty() && w != seg[i]) return false;
            ++i;
        }
        return true;
    };
    auto method_not_allowed = [&]() -> awaitable<void> {
        co_await send_problem(ex, Problem::method_not_allowed,
                              "this method is not allowed on this resource");
    };

    if (seg.empty()) {
        if (method == http::verb::get || method == http::verb::head) {
            co_return co_await web_page(ex, "index.html");
        }
        co_return co_await method_not_allowed();
    }
    if (is({"files"})) {
        if (method == http::verb::options) co_return co_await tus_options(ex);
        if (method == http::verb::post) {
            if (co_await safety_upload_gate(ex)) co_return;
            co_return co_await tus_create(ex);
        }
        co_return co_await method_not_allowed();
    }
    if (is({"files", ""})) {
        const std::string id(seg[1]);
        switch (method) {
            case http::verb::options: co_return co_await tus_options(ex);
            case http::verb::head: co_return co_await tus_head(ex, id);
            case http::verb::patch: co_return co_await tus_patch(ex, id);
            case http::verb::delete_: co_return co_await tus_delete(ex, id);
            default: co_return co_await method_not_allowed();
        }
    }
    if (is({"d", ""})) {
        if (method == http::verb::get || method == http::verb::head) {
            co_return co_await download(ex, std::string(seg[1]));
        }
        co_return co_await method_not_allowed();
    }
    if (is({"api", "v1", "files"})) {
        if (method == http::verb::get) co_return co_await owned_files_list(ex);
        co_return co_await method_not_allowed();
    }
    if (is({"api", "v1", "files", ""})) {
        if (method == http::verb::get) co_return co_await api_file(ex, std::string(seg[3]));
        if (method == http::verb::delete_) co_return co_await owned_file_delete(ex, std::string(seg[3]));
        if (method == http::verb::patch) co_return co_await owned_file_update(ex, std::string(seg[3]));
        co_return co_await method_not_allowed();
    }
    if (seg.size() >= 4 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "account" && seg[3] == "notices") {
        co_return co_await notices_route(ex, std::span(seg).subspan(4));
    }
    if (is({"api", "v1", "reports"})) {
        if (method == http::verb::post) co_return co_await report(ex);
        co_return co_await method_not_allowed();
    }
    if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "account") {
        co_return co_await account_route(ex, std::span(seg).subspan(3));
    }
    if (seg.size() >= 4 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "wallet" &&
        (seg[3] == "deposit-address" || seg[3] == "deposits" || seg[3] == "withdrawals")) {
        co_return co_await onchain_route(ex, std::span(seg).subspan(3));
    }
    if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "wallet") {
        co_return co_await wallet_route(ex, std::span(seg).subspan(3));
    }
    if (is({"api", "v1", "pay"})) {
        if (method == http::verb::post) {
            if (co_await safety_pay_gate(ex)) co_return;
            co_return co_await pay(ex);
        }
        co_return co_await method_not_allowed();
    }
    if (is({"api", "v1", "earnings"})) {
        if (method == http::verb::get) co_return co_await earnings(ex);
        co_return co_await method_not_allowed();
    }
    if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "admin") {
        co_return co_await admin_route(ex, std::span(seg).subspan(3));
    }
    if (is({"f", ""})) {
        if (method == http::verb::get || method == http::verb::head) {
            co_return co_await link_page(ex, std::string(seg[1]));
        }
        co_return co_await method_not_allowed();
    }
    if (is({"healthz"})) {
        if (method != http::verb::get && method != http::verb::head) co_return co_await method_not_allowed();
        co_return co_await send_text(ex, http::status::ok, "ok\n", "text/plain; charset=utf-8");
    }
    if (is({"metrics"})) {
        if (method != http::verb::get) co_return co_await method_not_allowed();
        co_return co_await send_text(
            ex, http::status::ok,
            m_metrics.render(m_uploads.writes_in_progress(), m_files.corrupt_seen()),
            "text/plain; version=0.0.4; charset=utf-8");
    }
    if (is_web_file(url->encoded_path())) {
        if (method == http::verb::get || method == http::verb::head) {
            co_return co_await web_file(ex, url->encoded_path());
        }
        co_return co_await method_not_allowed();
    }
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

awaitable<void> App::api_file(Exchange& ex, const std::string& file_id) {
    auto info = m_files.info(file_id);
    if (!info) {
        co_return co_await send_problem(
            ex, info.error().code == files::FileError::not_found ? Problem::not_found : Problem::internal,
            info.error().code == files::FileError::not_found ? "no such file" : "storage failure");
    }
    if (co_await safety_file_gate(ex, file_id)) co_return;
    // A closed link (revoked, expired, used up) is closed here too, so its encrypted name goes
    // nowhere either; its owner still sees the file's state.
    if (const auto refusal = m_files.link_refusal(*info)) {
        bool owner = false;
        if (m_accounts != nullptr) {
            Caller caller = co_await optional_caller(ex);
            if (caller.answered) co_return;
            owner = caller.principal && m_accounts->accounts.get_file(*caller.principal, file_id).has_value();
        }
        if (!owner) co_return co_await send_link_refusal(ex, *refusal, *info);
    }
    co_await send_text(ex, http::status::ok, file_state_json(*info), "application/json");
}

void App::set_admin(AdminContext* admin) {
    m_admin = admin;
    if (admin != nullptr) admin->blocking = &m_blocking;
}

}  // namespace satload::server
