// Account requests of the client: key derivation and wrapping here, JSON over HTTP there, the
// session file (or SATLOAD_TOKEN), password change and recovery, API tokens, and the
// decryption of the account's file list.
#include "client/account.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "client/api.h"
#include "client/files.h"
#include "client/link.h"
#include "client/link_controls.h"
#include "client/metadata.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/keys.h"

namespace satload::client {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

ClientResult<HttpResponse> send_json(HttpClient& client, const ServerUrl& server, http::verb method,
                                     std::string_view path, const std::string& body,
                                     std::string_view token) {
    HttpRequest req;
    req.method = method;
    req.target = server.target(path);
    if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = as_bytes(body);
    }
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + std::string(token));
    auto res = client.send(server.endpoint, req);
    if (!req.headers.empty() && !token.empty()) crypto::secure_wipe(req.headers.back().second);
    return res;
}

ClientResult<json::object> parse_object(const HttpResponse& res, std::string_view what) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body, ec);
    if (ec || !v.is_object()) {
        return client_error(ErrorCode::protocol,
                            "the server's answer to " + std::string(what) + " is not JSON");
    }
    return std::move(v.as_object());
}

std::optional<std::string> string_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::optional<std::uint64_t> uint_of(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    return std::nullopt;
}

Error request_error(std::string_view what, const HttpResponse& res) {
    if (res.status == 401)
        return Error{ErrorCode::http_status, std::string(what) + ": " + describe_response(res)};
    return status_error(what, res);
}

ClientResult<crypto::PasswordKeys> derive(std::string_view password,
                                          const crypto::AccountSalt& salt) {
    auto keys = crypto::derive_password_keys(password, salt);
    if (!keys) {
        return client_error(ErrorCode::bad_argument,
                            keys.error() == crypto::KdfError::password_too_long
                                ? "the password is too long"
                                : "not enough memory to derive the keys");
    }
    return std::move(*keys);
}

ClientResult<crypto::AccountSalt> fetch_salt(HttpClient& client, const ServerUrl& server,
                                             std::string_view username) {
    const std::string body = json::serialize(json::object{{"username", username}});
    auto res = send_json(client, server, http::verb::post, "/api/v1/account/salt", body, "");
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("salt lookup", *res));
    auto o = parse_object(*res, "the salt lookup");
    if (!o) return tl::unexpected(o.error());
    const auto text = string_of(*o, "salt");
    const auto bytes = text ? base64url_decode(*text) : std::nullopt;
    if (!bytes || bytes->size() != crypto::kAccountSaltBytes) {
        return client_error(ErrorCode::protocol, "the server sent a malformed salt");
    }
    crypto::AccountSalt salt{};
    std::copy(bytes->begin(), bytes->end(), salt.begin());
    return salt;
}

// The session in a login answer ({"username", "token", "master_by_password"}), whose master key
// must open with `keys` (login and completed recovery answer alike).
ClientResult<Session> session_from(HttpResponse& res, const ServerUrl& server,
                                   std::string_view what, const crypto::PasswordKeys& keys) {
    auto o = parse_object(res, what);
    crypto::secure_wipe(res.body);
    if (!o) return tl::unexpected(o.error());
    auto token = string_of(*o, "token");
    const auto name = string_of(*o, "username");
    const auto wrapped_text = string_of(*o, "master_by_password");
    const auto wrapped = wrapped_text ? base64url_decode(*wrapped_text) : std::nullopt;
    if (!token || !name || !wrapped)
        return client_error(ErrorCode::protocol, "the login answer is malformed");
    auto master = crypto::unwrap_master_key(keys.password_key, *wrapped);
    wipe_json_strings(*o);
    if (!master) {
        crypto::secure_wipe(*token);
        return client_error(ErrorCode::authentication_failed,
                            "the master key did not decrypt with this password");
    }
    Session session{server, *name, std::move(*token), std::move(*master)};
    return session;
}

ClientResult<Session> login_with(HttpClient& client, const ServerUrl& server,
                                 std::string_view username, const crypto::PasswordKeys& keys) {
    std::string body = json::serialize(json::object{
        {"username", username}, {"auth_key", base64url_encode(keys.auth_key.bytes())}});
    auto res = send_json(client, server, http::verb::post, "/api/v1/account/login", body, "");
    crypto::secure_wipe(body);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("login", *res));
    return session_from(*res, server, "login", keys);
}

// The members of a new password record: a fresh salt, its auth key, and `master` wrapped by its
// password key. Argon2id runs here.
ClientResult<json::object> new_password_members(std::string_view password,
                                                const crypto::MasterKey& master,
                                                const crypto::RandomSource& random,
                                                std::optional<crypto::PasswordKeys>& keys_out) {
    const crypto::AccountSalt salt = crypto::random_account_salt(random);
    auto keys = derive(password, salt);
    if (!keys) return tl::unexpected(keys.error());
    json::object o;
    o["salt"] = base64url_encode(salt);
    o["auth_key"] = base64url_encode(keys->auth_key.bytes());
    o["master_by_password"] =
        base64url_encode(crypto::wrap_master_key(keys->password_key, master, random));
    keys_out = std::move(*keys);
    return o;
}

ClientResult<Session> load_stored_session(const std::filesystem::path& home);

// SATLOAD_TOKEN as a credential, or nullopt when it is not set.
std::optional<ClientResult<Session>> token_session(const std::filesystem::path& home) {
    const char* env = std::getenv(std::string(kTokenEnv).c_str());
    if (env == nullptr || *env == '\0') return std::nullopt;
    const std::string_view token(env);
    // It goes into an Authorization header: printable ASCII without spaces, bounded.
    const bool printable =
        std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (token.size() > kMaxTokenChars || !printable) {
        return client_error(ErrorCode::bad_argument, "SATLOAD_TOKEN is not a token");
    }
    std::string server_text;
    if (const char* s = std::getenv(std::string(kServerEnv).c_str()); s != nullptr && *s != '\0') {
        server_text = s;
    } else if (auto stored = load_stored_session(home)) {
        server_text = stored->server.text();
    } else {
        return client_error(ErrorCode::bad_argument,
                            "SATLOAD_TOKEN needs SATLOAD_SERVER (no logged-in server)");
    }
    auto server = parse_server_url(server_text);
    if (!server) return tl::unexpected(server.error());
    Session session;
    session.server = std::move(*server);
    session.token = std::string(token);
    // Nothing can be unwrapped without the password: a random key wraps nothing anyone can open.
    session.master_key = crypto::random_master_key(crypto::system_random());
    session.token_only = true;
    return session;
}

ClientResult<void> require_login_session(const Session& session, std::string_view what) {
    if (!session.token_only) return {};
    return client_error(
        ErrorCode::bad_argument,
        std::string(what) + " needs a login session, not SATLOAD_TOKEN: unset it and log in");
}

// One entry of GET /api/v1/files as the server sends it: nothing decrypted yet.
struct ListedFile {
    std::string file_id;
    std::uint64_t size_bytes = 0;  // ciphertext
    std::int64_t created_s = 0;
    bool complete = false;
    Bytes wrapped_secret;
    std::string meta;  // encrypted metadata, base64url; "" while incomplete
};

ClientResult<std::vector<ListedFile>> fetch_listing(const Session& session,
                                                    const HttpOptions& options) {
    HttpClient client(options);
    auto res =
        send_json(client, session.server, http::verb::get, "/api/v1/files", "", session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("file list", *res));
    auto o = parse_object(*res, "the file list");
    if (!o) return tl::unexpected(o.error());
    const json::value* files = o->if_contains("files");
    if (files == nullptr || !files->is_array())
        return client_error(ErrorCode::protocol, "the file list is malformed");
    std::vector<ListedFile> out;
    for (const auto& item : files->as_array()) {
        if (!item.is_object())
            return client_error(ErrorCode::protocol, "the file list is malformed");
        const auto& f = item.as_object();
        const auto id = string_of(f, "id");
        const auto size = uint_of(f, "size_bytes");
        const auto wrapped_text = string_of(f, "wrapped_secret");
        const auto wrapped = wrapped_text ? base64url_decode(*wrapped_text) : std::nullopt;
        const json::value* created = f.if_contains("created");
        const json::value* complete = f.if_contains("complete");
        if (!id || !size || !wrapped || created == nullptr || !created->is_int64() ||
            complete == nullptr || !complete->is_bool()) {
            return client_error(ErrorCode::protocol, "the file list is malformed");
        }
        out.push_back(ListedFile{*id, *size, created->as_int64(), complete->as_bool(), *wrapped,
                                 string_of(f, "meta").value_or("")});
    }
    return out;
}

}  // namespace

ClientResult<Registered> register_account(const ServerUrl& server, std::string_view username,
                                          std::string_view password, const HttpOptions& options) {
    const crypto::RandomSource random = crypto::system_random();
    const crypto::AccountSalt salt = crypto::random_account_salt(random);
    auto keys = derive(password, salt);
    if (!keys) return tl::unexpected(keys.error());
    const crypto::MasterKey master = crypto::random_master_key(random);
    const crypto::RecoveryKey recovery = crypto::random_recovery_key(random);
    const crypto::RecoveryWrapKey recovery_wrap = crypto::derive_recovery_wrap_key(recovery);
    const crypto::RecoveryAuthKey recovery_auth = crypto::derive_recovery_auth_key(recovery);
    std::string body = json::serialize(json::object{
        {"username", username},
        {"salt", base64url_encode(salt)},
        {"auth_key", base64url_encode(keys->auth_key.bytes())},
        {"master_by_password",
         base64url_encode(crypto::wrap_master_key(keys->password_key, master, random))},
        {"recovery_auth_key", base64url_encode(recovery_auth.bytes())},
        {"master_by_recovery",
         base64url_encode(crypto::wrap_master_key(recovery_wrap, master, random))},
    });
    HttpClient client(options);
    auto res = send_json(client, server, http::verb::post, "/api/v1/account/register", body, "");
    crypto::secure_wipe(body);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("registration", *res));
    auto session = login_with(client, server, username, *keys);
    if (!session) return tl::unexpected(session.error());
    return Registered{std::move(*session), crypto::recovery_key_to_text(recovery)};
}

ClientResult<Session> login(const ServerUrl& server, std::string_view username,
                            std::string_view password, const HttpOptions& options) {
    HttpClient client(options);
    auto salt = fetch_salt(client, server, username);
    if (!salt) return tl::unexpected(salt.error());
    auto keys = derive(password, *salt);
    if (!keys) return tl::unexpected(keys.error());
    return login_with(client, server, username, *keys);
}

ClientResult<void> logout(const std::filesystem::path& home, const Session& session,
                          const HttpOptions& options) {
    HttpClient client(options);
    auto res = send_json(client, session.server, http::verb::post, "/api/v1/account/logout", "",
                         session.token);
    if (!res) return tl::unexpected(res.error());
    // 401: the token was already expired or revoked; the local session goes all the same.
    if (!res->ok() && res->status != 401) return tl::unexpected(request_error("logout", *res));
    std::error_code ec;
    std::filesystem::remove(home / kSessionFileName, ec);
    if (ec)
        return client_error(ErrorCode::file_io, "cannot remove the session file: " + ec.message());
    return {};
}

ClientResult<void> save_session(const std::filesystem::path& home, const Session& session) {
    if (auto r = make_private_dir(home); !r) return r;
    std::string text = json::serialize(json::object{
        {"server", session.server.text()},
        {"username", session.username},
        {"token", session.token},
        {"master_key", base64url_encode(session.master_key.bytes())},
    });
    auto written = write_file_atomic(home / kSessionFileName, text);
    crypto::secure_wipe(text);
    return written;
}

ClientResult<Session> load_session(const std::filesystem::path& home) {
    if (auto token = token_session(home)) return std::move(*token);
    return load_stored_session(home);
}

namespace {

ClientResult<Session> load_stored_session(const std::filesystem::path& home) {
    auto text = read_small_file(home / kSessionFileName, kMaxStateFileBytes);
    if (!text) {
        if (text.error().code == ErrorCode::not_found) {
            return client_error(ErrorCode::not_found,
                                "not logged in: run satload account login USER");
        }
        return tl::unexpected(text.error());
    }
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    crypto::secure_wipe(*text);
    const json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
    const auto server_text = o ? string_of(*o, "server") : std::nullopt;
    const auto username = o ? string_of(*o, "username") : std::nullopt;
    auto token = o ? string_of(*o, "token") : std::nullopt;
    auto master_text = o ? string_of(*o, "master_key") : std::nullopt;
    auto master_bytes = master_text ? base64url_decode(*master_text) : std::nullopt;
    auto server = server_text ? parse_server_url(*server_text) : client_error(ErrorCode::state, "");
    auto master = master_bytes ? crypto::MasterKey::from(*master_bytes) : std::nullopt;
    if (master_text) crypto::secure_wipe(*master_text);
    if (master_bytes) crypto::secure_wipe(master_bytes->data(), master_bytes->size());
    if (o) wipe_json_strings(v.as_object());
    if (!server || !username || !token || !master) {
        if (token) crypto::secure_wipe(*token);
        return client_error(ErrorCode::state, "the session file is malformed: log in again");
    }
    return Session{std::move(*server), *username, std::move(*token), std::move(*master)};
}

}  // namespace

ClientResult<void> change_password(const Session& session, std::string_view current_password,
                                   std::string_view new_password, const HttpOptions& options) {
    if (auto r = require_login_session(session, "changing the password"); !r) return r;
    HttpClient client(options);
    auto salt = fetch_salt(client, session.server, session.username);
    if (!salt) return tl::unexpected(salt.error());
    auto current = derive(current_password, *salt);
    if (!current) return tl::unexpected(current.error());
    const crypto::RandomSource random = crypto::system_random();
    std::optional<crypto::PasswordKeys> new_keys;
    auto body = new_password_members(new_password, session.master_key, random, new_keys);
    if (!body) return tl::unexpected(body.error());
    (*body)["current_auth_key"] = base64url_encode(current->auth_key.bytes());
    std::string text = json::serialize(*body);
    wipe_json_strings(*body);
    auto res = send_json(client, session.server, http::verb::post, "/api/v1/account/password", text,
                         session.token);
    crypto::secure_wipe(text);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("password change", *res));
    return {};
}

ClientResult<Session> recover_account(const ServerUrl& server, std::string_view username,
                                      std::string_view recovery_text, std::string_view new_password,
                                      const HttpOptions& options) {
    const auto recovery = crypto::recovery_key_from_text(recovery_text);
    if (!recovery) {
        return client_error(
            ErrorCode::bad_argument,
            "that is not a recovery key (56 characters in groups of 8; check for typos)");
    }
    const crypto::RecoveryWrapKey wrap_key = crypto::derive_recovery_wrap_key(*recovery);
    const crypto::RecoveryAuthKey auth_key = crypto::derive_recovery_auth_key(*recovery);
    HttpClient client(options);
    json::object begin;
    begin["username"] = username;
    begin["recovery_auth_key"] = base64url_encode(auth_key.bytes());
    std::string text = json::serialize(begin);
    wipe_json_strings(begin);
    auto res =
        send_json(client, server, http::verb::post, "/api/v1/account/recover/begin", text, "");
    crypto::secure_wipe(text);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("recovery", *res));
    auto o = parse_object(*res, "recovery");
    if (!o) return tl::unexpected(o.error());
    const auto wrapped_text = string_of(*o, "master_by_recovery");
    const auto wrapped = wrapped_text ? base64url_decode(*wrapped_text) : std::nullopt;
    if (!wrapped) return client_error(ErrorCode::protocol, "the recovery answer is malformed");
    auto master = crypto::unwrap_master_key(wrap_key, *wrapped);
    if (!master) {
        return client_error(ErrorCode::authentication_failed,
                            "the master key did not decrypt with this recovery key");
    }
    const crypto::RandomSource random = crypto::system_random();
    std::optional<crypto::PasswordKeys> new_keys;
    auto complete = new_password_members(new_password, *master, random, new_keys);
    if (!complete) return tl::unexpected(complete.error());
    (*complete)["username"] = username;
    (*complete)["recovery_auth_key"] = base64url_encode(auth_key.bytes());
    text = json::serialize(*complete);
    wipe_json_strings(*complete);
    res = send_json(client, server, http::verb::post, "/api/v1/account/recover/complete", text, "");
    crypto::secure_wipe(text);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("recovery", *res));
    auto session = session_from(*res, server, "recovery", *new_keys);
    if (!session) return tl::unexpected(session.error());
    // The server handed back the master key it was given: it must be the one recovered.
    if (!(session->master_key == *master)) {
        return client_error(ErrorCode::protocol, "the server answered another master key");
    }
    return session;
}

ClientResult<NewApiToken> create_api_token(const Session& session, std::string_view name,
                                           const HttpOptions& options) {
    if (auto r = require_login_session(session, "creating an API token"); !r)
        return tl::unexpected(r.error());
    HttpClient client(options);
    const std::string body = json::serialize(json::object{{"name", name}});
    auto res = send_json(client, session.server, http::verb::post, "/api/v1/account/tokens", body,
                         session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("token creation", *res));
    auto o = parse_object(*res, "the token creation");
    crypto::secure_wipe(res->body);
    if (!o) return tl::unexpected(o.error());
    const json::value* id = o->if_contains("id");
    const auto got_name = string_of(*o, "name");
    auto token = string_of(*o, "token");
    wipe_json_strings(*o);
    if (id == nullptr || !id->is_int64() || !got_name || !token) {
        if (token) crypto::secure_wipe(*token);
        return client_error(ErrorCode::protocol, "the token creation answer is malformed");
    }
    return NewApiToken{ApiToken{id->as_int64(), *got_name, 0}, std::move(*token)};
}

ClientResult<std::vector<ApiToken>> list_api_tokens(const Session& session,
                                                    const HttpOptions& options) {
    HttpClient client(options);
    auto res = send_json(client, session.server, http::verb::get, "/api/v1/account/tokens", "",
                         session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("token list", *res));
    auto o = parse_object(*res, "the token list");
    if (!o) return tl::unexpected(o.error());
    const json::value* tokens = o->if_contains("tokens");
    if (tokens == nullptr || !tokens->is_array())
        return client_error(ErrorCode::protocol, "the token list is malformed");
    std::vector<ApiToken> out;
    for (const auto& item : tokens->as_array()) {
        const json::object* t = item.if_object();
        const json::value* id = t ? t->if_contains("id") : nullptr;
        const json::value* created = t ? t->if_contains("created") : nullptr;
        const auto name = t ? string_of(*t, "name") : std::nullopt;
        if (id == nullptr || !id->is_int64() || created == nullptr || !created->is_int64() ||
            !name) {
            return client_error(ErrorCode::protocol, "the token list is malformed");
        }
        out.push_back(ApiToken{id->as_int64(), *name, created->as_int64()});
    }
    return out;
}

ClientResult<void> revoke_api_token(const Session& session, std::int64_t token_id,
                                    const HttpOptions& options) {
    if (token_id <= 0) return client_error(ErrorCode::bad_argument, "not a token id");
    HttpClient client(options);
    auto res = send_json(client, session.server, http::verb::delete_,
                         "/api/v1/account/tokens/" + std::to_string(token_id), "", session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("token revocation", *res));
    return {};
}

ClientResult<AccountUsage> account_usage(const Session& session, const HttpOptions& options) {
    HttpClient client(options);
    auto res =
        send_json(client, session.server, http::verb::get, "/api/v1/account", "", session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("account", *res));
    auto o = parse_object(*res, "account");
    if (!o) return tl::unexpected(o.error());
    const auto name = string_of(*o, "username");
    const auto used = uint_of(*o, "used_bytes");
    const auto quota = uint_of(*o, "quota_bytes");
    if (!name || !used || !quota)
        return client_error(ErrorCode::protocol, "the account answer is malformed");
    return AccountUsage{*name, *used, *quota};
}

void stderr_notice(std::string_view line) {
    std::fprintf(stderr, "satload: %.*s\n", static_cast<int>(line.size()), line.data());
}

ClientResult<std::vector<OwnedFile>> list_owned_files(const Session& session,
                                                      const HttpOptions& options,
                                                      const Notice& notice) {
    auto listed = fetch_listing(session, options);
    if (!listed) return tl::unexpected(listed.error());
    std::vector<OwnedFile> out;
    std::size_t unreadable = 0;
    for (const auto& f : *listed) {
        OwnedFile file;
        file.file_id = f.file_id;
        file.size_bytes = f.size_bytes;
        file.created_s = f.created_s;
        file.complete = f.complete;
        // One unreadable key (a file put with SATLOAD_TOKEN, or an altered record) costs that
        // file its name and link, not the whole listing.
        std::optional<crypto::FileSecret> secret;
        if (file.complete && !session.token_only) {
            auto unwrapped = crypto::unwrap_file_secret(session.master_key, f.wrapped_secret);
            if (unwrapped)
                secret = *unwrapped;
            else
                ++unreadable;
            if (unwrapped) crypto::secure_wipe(unwrapped->data(), unwrapped->size());
        }
        if (secret) {
            file.readable = true;
            const crypto::FileKeys keys = crypto::derive_file_keys(*secret);
            auto meta = decrypt_metadata(f.meta, keys.metadata_ikm);
            if (meta) {
                file.name = meta->name;
                file.size_bytes = meta->size_bytes;
            }
            Link link;
            link.server = session.server;
            link.file_id = file.file_id;
            link.secret = *secret;
            file.link = format_link(link);
            crypto::secure_wipe(link.secret.data(), link.secret.size());
            crypto::secure_wipe(secret->data(), secret->size());
        }
        out.push_back(std::move(file));
    }
    if (session.token_only && notice) {
        notice(
            "an API token (SATLOAD_TOKEN) cannot decrypt file names or links: listing ids and "
            "stored sizes only");
    }
    if (unreadable > 0 && notice) {
        notice(std::to_string(unreadable) +
               " file(s) have a key this account's master key does not open (uploaded with an API "
               "token, or altered): listed without name or link");
    }
    return out;
}

ClientResult<FileMetadata> rename_owned_file(const Session& session, std::string_view file_id,
                                             std::string_view new_name,
                                             const HttpOptions& options) {
    if (auto r = require_login_session(session, "renaming a file"); !r)
        return tl::unexpected(r.error());
    if (!is_file_id(file_id)) return client_error(ErrorCode::bad_argument, "not a file id");
    if (auto problem = new_name_problem(new_name))
        return client_error(ErrorCode::bad_argument, *problem);
    auto listed = fetch_listing(session, options);
    if (!listed) return tl::unexpected(listed.error());
    const auto found = std::find_if(listed->begin(), listed->end(),
                                    [&](const ListedFile& f) { return f.file_id == file_id; });
    if (found == listed->end()) {
        return client_error(ErrorCode::not_found,
                            "no file " + std::string(file_id) + " in your files");
    }
    if (!found->complete)
        return client_error(ErrorCode::bad_argument, "the file's upload is not complete yet");
    auto secret = crypto::unwrap_file_secret(session.master_key, found->wrapped_secret);
    if (!secret) {
        return client_error(
            ErrorCode::authentication_failed,
            "this account's master key does not open the file's key (uploaded with an API "
            "token, or altered): it cannot be renamed");
    }
    const crypto::FileKeys keys = crypto::derive_file_keys(*secret);
    crypto::secure_wipe(secret->data(), secret->size());
    // Only the name changes: the size and type the downloads check stay as they were.
    auto meta = decrypt_metadata(found->meta, keys.metadata_ikm);
    if (!meta) return tl::unexpected(meta.error());
    meta->name = std::string(new_name);
    FileChange change;
    change.meta = encrypt_metadata(*meta, keys.metadata_ikm);
    auto updated = update_file(session, file_id, change, options);
    if (!updated) return tl::unexpected(updated.error());
    return std::move(*meta);
}

ClientResult<void> delete_owned_file(const Session& session, std::string_view file_id,
                                     const HttpOptions& options) {
    // File ids are base64url: anything else would not be a plain path segment.
    if (file_id.empty() || file_id.size() > 64 ||
        file_id.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
            std::string_view::npos) {
        return client_error(ErrorCode::bad_argument, "not a file id");
    }
    HttpClient client(options);
    auto res = send_json(client, session.server, http::verb::delete_,
                         "/api/v1/files/" + std::string(file_id), "", session.token);
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return tl::unexpected(request_error("delete", *res));
    return {};
}

}  // namespace satload::client
