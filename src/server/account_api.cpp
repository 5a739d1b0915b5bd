// The account API: registration, salt lookup, login and logout, password change, recovery, API
// tokens, the caller's account and files, and file deletion by its owner. Keys arrive already
// derived by the client (base64url); the server keeps only hashes and wrapped blobs
// (accounts::AccountService), never runs Argon2id.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "server/app.h"
#include "server/client_limits.h"
#include "server/session_cookie.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// The largest account request body: a registration is under 1 KiB of JSON.
constexpr std::size_t kAccountBodyBytesMax = 16 * 1024;
// One answer for an unknown user and a wrong password: same status, same body.
constexpr std::string_view kBadCredentialsDetail = "wrong username or password";

// A base64url member decoded, or nullopt when absent or not base64url.
std::optional<Bytes> bytes_member(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    const json::string& s = v->as_string();
    return base64url_decode(std::string_view(s.data(), s.size()));
}

std::optional<std::string> string_member(const json::object& o, std::string_view name) {
    const json::value* v = o.if_contains(name);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

void wipe(std::optional<Bytes>& b) {
    if (b) crypto::secure_wipe(b->data(), b->size());
}

// The new password record of a password change or a recovery ("salt", "auth_key",
// "master_by_password"), or nullopt when a member is absent or not base64url. Sizes other than
// the salt's are the service's to check (it answers `malformed`).
std::optional<accounts::NewPassword> new_password_member(const json::object& o) {
    auto salt = bytes_member(o, "salt");
    auto auth_key = bytes_member(o, "auth_key");
    auto master_by_password = bytes_member(o, "master_by_password");
    if (!salt || salt->size() != crypto::kAccountSaltBytes || !auth_key || !master_by_password) {
        wipe(auth_key);
        return std::nullopt;
    }
    accounts::NewPassword p;
    std::copy(salt->begin(), salt->end(), p.salt.begin());
    p.auth_key = std::move(*auth_key);
    p.master_by_password = std::move(*master_by_password);
    return p;
}

void wipe(accounts::NewPassword& p) { crypto::secure_wipe(p.auth_key.data(), p.auth_key.size()); }

// Wipes the string members of a parsed body or a built answer when it goes out of scope: they
// hold keys (base64url) or a token.
struct WipeStrings {
    json::object& object;
    explicit WipeStrings(json::object& o) : object(o) {}
    WipeStrings(const WipeStrings&) = delete;
    WipeStrings& operator=(const WipeStrings&) = delete;
    ~WipeStrings() {
        for (auto& member : object) {
            if (member.value().is_string()) {
                json::string& s = member.value().as_string();
                crypto::secure_wipe(s.data(), s.size());
            }
        }
    }
};

// Whether a login, registration or recovery asks for the session as a cookie (the web app:
// `"session": "cookie"`) instead of a token in the answer (the CLI).
bool wants_cookie(const json::object& o) {
    const json::value* v = o.if_contains("session");
    return v != nullptr && v->is_string() && v->as_string() == "cookie";
}

// Cookies carry Secure when the browser reaches us over TLS: our own, or a proxy's (an https
// public URL). Over plain http on localhost a Secure cookie would not come back.
bool secure_cookies(const ServerOptions& options) {
    return !options.tls_cert_file.empty() || options.public_url.starts_with("https://");
}

// A JSON answer that also sets (or clears) the session cookie; never cached.
awaitable<void> send_json_with_cookie(Exchange& ex, http::status status, std::string body,
                                      std::string set_cookie) {
    StringResponse res{status, ex.request().version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::set_cookie, set_cookie);
    crypto::secure_wipe(set_cookie.data(), set_cookie.size());
    res.keep_alive(ex.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    co_await ex.send(std::move(res));
}

// The answer of a login and of a completed recovery: the new session and the wrapped master key.
// With `cookie` the token goes into the session cookie only, never into the body, so page
// scripts never hold it.
std::string login_answer(accounts::LoginGrant& grant, bool cookie = false) {
    json::object body;
    const WipeStrings wipe_body{body};
    body["username"] = grant.principal.username;
    if (!cookie) body["token"] = grant.token;
    body["expires"] = grant.expires_s;
    body["master_by_password"] = base64url_encode(grant.master_by_password);
    if (!cookie) crypto::secure_wipe(grant.token.data(), grant.token.size());
    return json::serialize(body);
}

// An API token id in a path: decimal digits only, no sign, no leading zero, below 2^63.
std::optional<accounts::TokenId> token_id_segment(std::string_view text) {
    constexpr std::size_t kMaxDigits = 18;  // 10^18 - 1 < 2^63
    if (text.empty() || text.size() > kMaxDigits || (text.size() > 1 && text[0] == '0')) {
        return std::nullopt;
    }
    accounts::TokenId id = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        id = id * 10 + (c - '0');
    }
    return id;
}


}  // namespace

awaitable<void> App::send_account_failure(Exchange& ex, const accounts::AccountFailure& failure) {
    using accounts::AccountError;
    switch (failure.code) {
        case AccountError::invalid_username:
            co_return co_await send_problem(
                ex, Problem::bad_request, "a username is 3 to 32 characters of a-z, 0-9, _ and -");
        case AccountError::username_taken:
            co_return co_await send_problem(ex, Problem::conflict, "this username is taken");
        case AccountError::malformed:
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "a key, salt or id is malformed");
        case AccountError::bad_credentials:
            co_return co_await send_problem(ex, Problem::unauthorized, kBadCredentialsDetail);
        case AccountError::unauthenticated:
            co_return co_await send_problem(ex, Problem::unauthorized,
                                            "the session is missing, expired or revoked: log in");
        case AccountError::session_required:
            co_return co_await send_problem(ex, Problem::forbidden,
                                            "this needs an interactive session");
        case AccountError::not_found:
            co_return co_await send_problem(ex, Problem::not_found, "no such file");
        case AccountError::file_exists:
            co_return co_await send_problem(ex, Problem::conflict, "this file is already recorded");
        case AccountError::quota_exceeded:
            co_return co_await send_problem(ex, Problem::insufficient_storage_quota,
                                            "this upload would exceed the account's storage quota");
        case AccountError::too_many_tokens:
            co_return co_await send_problem(ex, Problem::conflict, "too many API tokens");
        case AccountError::throttled:
            co_return co_await send_too_many_requests(ex, failure.retry_after_s,
                                                      "too many failed attempts: try again later");
        case AccountError::store_failed:
            break;
    }
    co_await send_problem(ex, Problem::internal, "storage failure");
}

awaitable<App::Caller> App::optional_caller(Exchange& ex) {
    Caller caller;
    const Request& req = ex.request();
    if (m_accounts == nullptr) co_return caller;
    // Authorization wins (the CLI, scripts); the session cookie is the web app's.
    const auto it = req.find(http::field::authorization);
    std::string_view token;
    const bool from_cookie = it == req.end();
    if (!from_cookie) {
        const auto bearer = bearer_token(it->value());
        if (!bearer) {
            caller.answered = true;
            co_await send_problem(ex, Problem::unauthorized,
                                  "send Authorization: Bearer <session token>");
            co_return caller;
        }
        token = *bearer;
    } else {
        const auto cookie = session_cookie(req);
        if (!cookie) co_return caller;
        if (!passes_csrf_rule(req)) {
            caller.answered = true;
            co_await send_problem(ex, Problem::forbidden,
                                  "a request authenticated by the session cookie that changes "
                                  "something must carry the X-Satload-Csrf header");
            co_return caller;
        }
        token = *cookie;
    }
    auto principal = m_accounts->accounts.authenticate(token);
    if (!principal) {
        caller.answered = true;
        if (from_cookie && principal.error().code == accounts::AccountError::unauthenticated) {
            // The browser forgets a cookie the server no longer knows (expired, logged out
            // elsewhere, a password change), so the page sees it is logged out.
            if (!ex.body_done()) ex.close_after_response();
            StringResponse res = problem_response(req.version(), ex.keep_alive(),
                                                  Problem::unauthorized,
                                                  "the session has expired or was revoked: log in");
            res.set(http::field::set_cookie, clearing_cookie_header(secure_cookies(m_options)));
            co_await ex.send(std::move(res));
            co_return caller;
        }
        co_await send_account_failure(ex, principal.error());
        co_return caller;
    }
    caller.principal = std::move(*principal);
    co_return caller;
}

awaitable<void> App::account_route(Exchange& ex, std::span<const std::string_view> rest) {
    AccountContext* ctx = m_accounts;
    if (ctx == nullptr) co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    auto& service = ctx->accounts;
    const http::verb method = ex.request().method();
    auto not_allowed = [&]() -> awaitable<void> {
        co_await send_problem(ex, Problem::method_not_allowed,
                              "this method is not allowed on this resource");
    };
    // The JSON object body of a POST (at most kAccountBodyBytesMax: 413 above, 400 when it is
    // not one JSON object), or nullopt after answering the error.
    auto read_object = [&]() -> awaitable<std::optional<json::object>> {
        const std::string too_large =
            "the request body is larger than " + std::to_string(kAccountBodyBytesMax) + " bytes";
        if (ex.content_length() && *ex.content_length() > kAccountBodyBytesMax) {
            co_await send_problem(ex, Problem::payload_too_large, too_large);
            co_return std::nullopt;
        }
        std::string body;
        std::array<std::uint8_t, 1024> buffer{};
        for (;;) {
            const auto n = co_await ex.read_body(buffer);
            if (!n) co_return std::nullopt;  // the connection failed; nothing to answer
            if (*n == 0) break;
            body.append(reinterpret_cast<const char*>(buffer.data()), *n);
            if (body.size() > kAccountBodyBytesMax) {
                crypto::secure_wipe(body.data(), body.size());
                co_await send_problem(ex, Problem::payload_too_large, too_large);
                co_return std::nullopt;
            }
        }
        boost::system::error_code ec;
        json::value v = json::parse(body, ec);
        crypto::secure_wipe(body.data(), body.size());  // may hold an auth key
        if (ec || !v.is_object()) {
            co_await send_problem(ex, Problem::bad_request, "the body must be a JSON object");
            co_return std::nullopt;
        }
        co_return std::move(v.as_object());
    };
    // The caller's principal, or nullopt after answering 401.
    auto require_caller = [&]() -> awaitable<std::optional<accounts::Principal>> {
        Caller caller = co_await optional_caller(ex);
        if (caller.answered) co_return std::nullopt;
        if (!caller.principal) {
            co_await send_problem(ex, Problem::unauthorized, "log in first");
            co_return std::nullopt;
        }
        co_return std::move(caller.principal);
    };
    // A failure whose bad_credentials names what was wrong in this exchange.
    auto send_failure = [&](const accounts::AccountFailure& failure,
                            std::string_view bad_credentials_detail) -> awaitable<void> {
        if (failure.code == accounts::AccountError::bad_credentials) {
            co_return co_await send_problem(ex, Problem::unauthorized, bad_credentials_detail);
        }
        co_await send_account_failure(ex, failure);
    };
    auto no_content = [&]() -> awaitable<void> {
        StringResponse res{http::status::no_content, ex.request().version()};
        res.keep_alive(ex.keep_alive());
        co_await ex.send(std::move(res));
    };
    const bool secure = secure_cookies(m_options);
    // The answer of a new session: the token in the body (the CLI), or only in the session
    // cookie when the client asked for one (the web app).
    auto send_login = [&](accounts::LoginGrant& grant, bool cookie,
                          http::status status) -> awaitable<void> {
        std::string body = login_answer(grant, cookie);
        if (!cookie) co_return co_await send_text(ex, status, std::move(body), "application/json");
        std::string set_cookie = session_cookie_header(grant.token, grant.expires_s, secure);
        crypto::secure_wipe(grant.token.data(), grant.token.size());
        co_await send_json_with_cookie(ex, status, std::move(body), std::move(set_cookie));
    };
    // Named: GCC 12 mishandles some temporaries inside co_await expressions.
    const accounts::AccountFailure session_only{accounts::AccountError::session_required, 0, {}};
    const std::string address =
        client_address(ex.request(), m_options.trust_proxy, ex.peer_address());

    if (rest.empty()) {
        if (method != http::verb::get) co_return co_await not_allowed();
        auto principal = co_await require_caller();
        if (!principal) co_return;
        auto quota = service.quota(*principal);
        if (!quota) co_return co_await send_account_failure(ex, quota.error());
        json::object body;
        body["username"] = principal->username;
        body["used_bytes"] = quota->used_bytes;
        body["quota_bytes"] = quota->limit_bytes;
        co_return co_await send_text(ex, http::status::ok, json::serialize(body),
                                     "application/json");
    }
    const std::string_view action = rest[0];

    // API tokens: POST creates (shown once), GET lists, DELETE tokens/<id> revokes.
    if (action == "tokens" && rest.size() <= 2) {
        if (rest.size() == 2) {
            if (method != http::verb::delete_) co_return co_await not_allowed();
            auto principal = co_await require_caller();
            if (!principal) co_return;
            const auto id = token_id_segment(rest[1]);
            if (!id) co_return co_await send_problem(ex, Problem::not_found, "no such API token");
            auto out = service.revoke_api_token(*principal, *id);
            if (!out && out.error().code == accounts::AccountError::not_found) {
                co_return co_await send_problem(ex, Problem::not_found, "no such API token");
            }
            if (!out) co_return co_await send_account_failure(ex, out.error());
            co_return co_await no_content();
        }
        if (method == http::verb::get) {
            auto principal = co_await require_caller();
            if (!principal) co_return;
            auto tokens = service.list_api_tokens(*principal);
            if (!tokens) co_return co_await send_account_failure(ex, tokens.error());
            // Built member by member: GCC 12 miscompiles initializer lists in coroutines.
            json::array list;
            for (const auto& t : *tokens) {
                json::object item;
                item["id"] = t.token_id;
                item["name"] = t.name;
                item["created"] = t.created_s;
                list.push_back(std::move(item));
            }
            json::object body;
            body["tokens"] = std::move(list);
            co_return co_await send_text(ex, http::status::ok, json::serialize(body),
                                         "application/json");
        }
        if (method != http::verb::post) co_return co_await not_allowed();
        auto principal = co_await require_caller();
        if (!principal) co_return;
        if (principal->kind != accounts::TokenKind::session) {
            co_return co_await send_account_failure(ex, session_only);
        }
        auto o = co_await read_object();
        if (!o) co_return;
        const auto name = string_member(*o, "name");
        if (!name) co_return co_await send_problem(ex, Problem::bad_request, "send name");
        auto grant = service.create_api_token(*principal, *name);
        if (!grant && grant.error().code == accounts::AccountError::malformed) {
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "a token name is 1 to 64 printable ASCII characters");
        }
        if (!grant) co_return co_await send_account_failure(ex, grant.error());
        json::object body;
        const WipeStrings wipe_body{body};
        body["id"] = grant->token_id;
        body["name"] = *name;
        body["token"] = grant->token;
        crypto::secure_wipe(grant->token.data(), grant->token.size());
        std::string text = json::serialize(body);
        co_return co_await send_text(ex, http::status::created, std::move(text),
                                     "application/json");
    }

    // Recovery: begin proves the recovery auth key and answers the recovery-wrapped master key;
    // complete proves it again with the new password record, which replaces the old one.
    if (action == "recover" && rest.size() == 2 && (rest[1] == "begin" || rest[1] == "complete")) {
        if (method != http::verb::post) co_return co_await not_allowed();
        constexpr std::string_view kBadRecovery = "wrong username or recovery key";
        auto o = co_await read_object();
        if (!o) co_return;
        const WipeStrings wipe_body{*o};
        const auto username = string_member(*o, "username");
        auto recovery_auth_key = bytes_member(*o, "recovery_auth_key");
        if (rest[1] == "begin") {
            if (!username || !recovery_auth_key) {
                wipe(recovery_auth_key);
                co_return co_await send_problem(ex, Problem::bad_request,
                                                "send username and recovery_auth_key (base64url)");
            }
            auto wrapped = service.begin_recovery(*username, *recovery_auth_key, address);
            wipe(recovery_auth_key);
            if (!wrapped) co_return co_await send_failure(wrapped.error(), kBadRecovery);
            json::object body;
            body["master_by_recovery"] = base64url_encode(*wrapped);
            co_return co_await send_text(ex, http::status::ok, json::serialize(body),
                                         "application/json");
        }
        auto password = new_password_member(*o);
        if (!username || !recovery_auth_key || !password) {
            wipe(recovery_auth_key);
            if (password) wipe(*password);
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "send username, recovery_auth_key, salt, auth_key and "
                                            "master_by_password (base64url)");
        }
        auto grant = service.complete_recovery(*username, *recovery_auth_key, *password, address);
        wipe(recovery_auth_key);
        wipe(*password);
        if (!grant) co_return co_await send_failure(grant.error(), kBadRecovery);
        co_return co_await send_login(*grant, wants_cookie(*o), http::status::ok);
    }

    if (rest.size() != 1)
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");

    if (action == "password") {
        if (method != http::verb::post) co_return co_await not_allowed();
        auto principal = co_await require_caller();
        if (!principal) co_return;
        if (principal->kind != accounts::TokenKind::session) {
            co_return co_await send_account_failure(ex, session_only);
        }
        auto o = co_await read_object();
        if (!o) co_return;
        const WipeStrings wipe_body{*o};
        auto current = bytes_member(*o, "current_auth_key");
        auto password = new_password_member(*o);
        if (!current || !password) {
            wipe(current);
            if (password) wipe(*password);
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "send current_auth_key, salt, auth_key and "
                                            "master_by_password (base64url)");
        }
        auto out = service.change_password(*principal, *current, *password, address);
        wipe(current);
        wipe(*password);
        if (!out) co_return co_await send_failure(out.error(), "wrong current password");
        co_return co_await no_content();
    }
    if (action == "register") {
        if (method != http::verb::post) co_return co_await not_allowed();
        auto o = co_await read_object();
        if (!o) co_return;
        const WipeStrings wipe_body{*o};
        const auto username = string_member(*o, "username");
        auto password = new_password_member(*o);
        auto recovery_auth_key = bytes_member(*o, "recovery_auth_key");
        auto master_by_recovery = bytes_member(*o, "master_by_recovery");
        if (!username || !password || !recovery_auth_key || !master_by_recovery) {
            if (password) wipe(*password);
            wipe(recovery_auth_key);
            co_return co_await send_problem(
                ex, Problem::bad_request,
                "send username, salt, auth_key, master_by_password, recovery_auth_key and "
                "master_by_recovery (base64url)");
        }
        // The web app registers and logs in with one request: the session arrives as a cookie.
        const bool cookie = wants_cookie(*o);
        Bytes login_key = cookie ? password->auth_key : Bytes{};
        accounts::Registration r;
        r.username = *username;
        r.password = std::move(*password);
        r.recovery_auth_key = std::move(*recovery_auth_key);
        r.master_by_recovery = std::move(*master_by_recovery);
        auto id = service.register_account(r);
        wipe(r.password);
        crypto::secure_wipe(r.recovery_auth_key.data(), r.recovery_auth_key.size());
        if (!id) {
            crypto::secure_wipe(login_key.data(), login_key.size());
            co_return co_await send_account_failure(ex, id.error());
        }
        if (cookie) {
            auto grant = service.login(*username, login_key, address);
            crypto::secure_wipe(login_key.data(), login_key.size());
            if (!grant) co_return co_await send_account_failure(ex, grant.error());
            co_return co_await send_login(*grant, true, http::status::created);
        }
        json::object body;
        body["username"] = *accounts::normalize_username(*username);
        co_return co_await send_text(ex, http::status::created, json::serialize(body),
                                     "application/json");
    }
    if (action == "salt") {
        if (method != http::verb::post) co_return co_await not_allowed();
        auto o = co_await read_object();
        if (!o) co_return;
        const auto username = string_member(*o, "username");
        if (!username) co_return co_await send_problem(ex, Problem::bad_request, "send username");
        auto salt = service.salt(*username);
        if (!salt) co_return co_await send_account_failure(ex, salt.error());
        json::object body;
        body["salt"] = base64url_encode(*salt);
        co_return co_await send_text(ex, http::status::ok, json::serialize(body),
                                     "application/json");
    }
    if (action == "login") {
        if (method != http::verb::post) co_return co_await not_allowed();
        auto o = co_await read_object();
        if (!o) co_return;
        const WipeStrings wipe_body{*o};
        const auto username = string_member(*o, "username");
        auto auth_key = bytes_member(*o, "auth_key");
        if (!username || !auth_key) {
            wipe(auth_key);
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "send username and auth_key (base64url)");
        }
        auto grant = service.login(*username, *auth_key, address);
        wipe(auth_key);
        if (!grant) co_return co_await send_account_failure(ex, grant.error());
        co_return co_await send_login(*grant, wants_cookie(*o), http::status::ok);
    }
    if (action == "logout") {
        if (method != http::verb::post) co_return co_await not_allowed();
        auto principal = co_await require_caller();
        if (!principal) co_return;
        auto out = service.logout(*principal);
        if (!out) co_return co_await send_account_failure(ex, out.error());
        if (session_cookie(ex.request())) {
            // The web app's logout also makes the browser forget the cookie.
            StringResponse res{http::status::no_content, ex.request().version()};
            res.set(http::field::set_cookie, clearing_cookie_header(secure));
            res.keep_alive(ex.keep_alive());
            co_await ex.send(std::move(res));
            co_return;
        }
        co_return co_await no_content();
    }
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

awaitable<void> App::owned_files_list(Exchange& ex) {
    if (m_accounts == nullptr)
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal)
        co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    json::array files;
    std::string after;
    // Every page: an account's listing is bounded by its quota, and this is one JSON answer.
    for (;;) {
        auto page =
            m_accounts->accounts.list_files(*caller.principal, after, accounts::kMaxFilesPerPage);
        if (!page) co_return co_await send_account_failure(ex, page.error());
        for (const auto& owned : *page) {
            json::object f;
            f["id"] = owned.file_id;
            f["created"] = owned.created_s;
            f["wrapped_secret"] = base64url_encode(owned.wrapped_secret);
            auto info = m_files.info(owned.file_id);
            // An owned upload that is not complete yet (or expired unfinished) has no file.
            f["complete"] = info.has_value();
            f["size_bytes"] = info ? info->size_bytes : owned.size_bytes;
            f["meta"] = info ? info->meta : std::string();
            files.push_back(std::move(f));
        }
        if (page->size() < accounts::kMaxFilesPerPage) break;
        after = page->back().file_id;
    }
    json::object body;
    body["files"] = std::move(files);
    co_await send_text(ex, http::status::ok, json::serialize(body), "application/json");
}

awaitable<void> App::owned_file_delete(Exchange& ex, const std::string& file_id) {
    if (m_accounts == nullptr)
        co_return co_await send_problem(ex, Problem::method_not_allowed,
                                        "this method is not allowed on this resource");
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal)
        co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    // Ownership first: another account's file and an absent one get the same 404.
    auto owned = m_accounts->accounts.get_file(*caller.principal, file_id);
    if (!owned) co_return co_await send_account_failure(ex, owned.error());
    // An upload still under way is ended first (under its lock: a PATCH writing it makes this
    // answer 423, and nothing changes), so it can never complete into a file without an owner
    // that no quota counts. One that completed meanwhile left its file record, removed below.
    auto upload = m_accounts->meta.upload_id_of_file(file_id);
    if (!upload) co_return co_await send_problem(ex, Problem::internal, "storage failure");
    if (*upload) {
        if (auto ended = m_uploads.terminate(**upload);
            !ended && ended.error().code != files::UploadError::not_found) {
            co_return co_await send_upload_failure(ex, ended.error());
        }
    }
    // The file record goes first, so the link answers 404 at once; then the blob; then the
    // ownership, which frees the quota. A crash in between leaves at worst an orphan blob.
    if (auto r = m_accounts->meta.delete_file(file_id);
        !r && r.error().code != store::StoreError::not_found) {
        co_return co_await send_problem(ex, Problem::internal, "storage failure");
    }
    if (auto r = m_accounts->blobs.remove_blob(file_id);
        !r && r.error().code != store::StoreError::not_found) {
        co_return co_await send_problem(ex, Problem::internal, "storage failure");
    }
    auto removed = m_accounts->accounts.delete_file(*caller.principal, file_id);
    if (!removed) co_return co_await send_account_failure(ex, removed.error());
    StringResponse res{http::status::no_content, ex.request().version()};
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

}  // namespace satload::server
