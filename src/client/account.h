// Accounts from the client side: registration, login, password change and recovery with keys
// derived locally (Argon2id never runs on the server), the session file under SATLOAD_HOME (or
// an API token from SATLOAD_TOKEN), API tokens, and the account's files, whose names and links
// are decrypted here with the master key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "client/error.h"
#include "client/http.h"
#include "client/metadata.h"
#include "client/url.h"
#include "crypto/account_keys.h"

namespace satload::client {

// <SATLOAD_HOME>/session.json, mode 0600. It holds the session token and the master key (like
// other command-line tools keep their tokens): whoever reads it can read the account's files.
inline constexpr std::string_view kSessionFileName = "session.json";
// Scripts authenticate with an API token in SATLOAD_TOKEN (and the server in SATLOAD_SERVER,
// else the stored session's): when set, it is the credential of every command that needs one.
inline constexpr std::string_view kTokenEnv = "SATLOAD_TOKEN";
inline constexpr std::string_view kServerEnv = "SATLOAD_SERVER";
// A longer SATLOAD_TOKEN is refused before it reaches a header (ours are 47 characters).
inline constexpr std::size_t kMaxTokenChars = 256;

struct Session {
    ServerUrl server;
    std::string username;          // "" for a SATLOAD_TOKEN credential (the server knows it)
    std::string token;             // secret
    crypto::MasterKey master_key;  // secret; random and useless when token_only
    // The credential is a bare token (SATLOAD_TOKEN): there is no master key, so file secrets
    // can be neither unwrapped (names and links of `ls`) nor wrapped for later listing.
    bool token_only = false;
};

struct Registered {
    Session session;            // registering also logs in
    std::string recovery_text;  // shown once to the user; never stored by satload
};

[[nodiscard]] ClientResult<Registered> register_account(const ServerUrl& server,
                                                        std::string_view username,
                                                        std::string_view password,
                                                        const HttpOptions& http);
[[nodiscard]] ClientResult<Session> login(const ServerUrl& server, std::string_view username,
                                          std::string_view password, const HttpOptions& http);

// Revokes the session on the server, then removes the session file (also when the server
// already forgot the token).
[[nodiscard]] ClientResult<void> logout(const std::filesystem::path& home, const Session& session,
                                        const HttpOptions& http);

[[nodiscard]] ClientResult<void> save_session(const std::filesystem::path& home,
                                              const Session& session);
// The credential commands run with: SATLOAD_TOKEN when set (token_only), else the session file.
// not_found when nobody is logged in.
[[nodiscard]] ClientResult<Session> load_session(const std::filesystem::path& home);

// Proves the current password, then replaces the password record: a new salt and auth key, and
// the session's master key wrapped by the new password key. Files are untouched (their secrets
// are wrapped by the master key, which does not change); the server revokes every other
// session. Needs a login session (bad_argument when token_only).
[[nodiscard]] ClientResult<void> change_password(const Session& session,
                                                 std::string_view current_password,
                                                 std::string_view new_password,
                                                 const HttpOptions& http);

// A forgotten password: the recovery key (its text form, as shown at registration) proves the
// account and unwraps the master key locally; the new password then replaces the old one, every
// session and API token is revoked, and the returned session is logged in.
[[nodiscard]] ClientResult<Session> recover_account(const ServerUrl& server,
                                                    std::string_view username,
                                                    std::string_view recovery_text,
                                                    std::string_view new_password,
                                                    const HttpOptions& http);

// API tokens, for scripts: they authenticate like a session but hold no key.
struct ApiToken {
    std::int64_t token_id = 0;
    std::string name;
    std::int64_t created_s = 0;
};
struct NewApiToken {
    ApiToken info;
    std::string token;  // secret; shown once
};
// Needs a login session: an API token cannot create another.
[[nodiscard]] ClientResult<NewApiToken> create_api_token(const Session& session,
                                                         std::string_view name,
                                                         const HttpOptions& http);
[[nodiscard]] ClientResult<std::vector<ApiToken>> list_api_tokens(const Session& session,
                                                                  const HttpOptions& http);
// not_found for a token that is not the account's or already revoked.
[[nodiscard]] ClientResult<void> revoke_api_token(const Session& session, std::int64_t token_id,
                                                  const HttpOptions& http);

struct AccountUsage {
    std::string username;
    std::uint64_t used_bytes = 0;
    std::uint64_t quota_bytes = 0;
};
[[nodiscard]] ClientResult<AccountUsage> account_usage(const Session& session,
                                                       const HttpOptions& http);

struct OwnedFile {
    std::string file_id;
    std::string name;              // decrypted; "" when the upload is not complete or not readable
    std::uint64_t size_bytes = 0;  // the plaintext size from the metadata, else the ciphertext's
    std::int64_t created_s = 0;
    bool complete = false;
    // Whether the file secret was unwrapped: false with a token_only credential, and for a file
    // whose secret the master key does not open (uploaded with SATLOAD_TOKEN, or tampered).
    bool readable = false;
    std::string link;  // with the file secret in the fragment; "" unless readable
};
// One line for the user (stderr), never a secret.
using Notice = std::function<void(std::string_view)>;
// Writes "satload: <line>" to stderr.
void stderr_notice(std::string_view line);
// Files that cannot be read (token_only, or keys that do not open) are listed by id and size,
// and `notice` says so once.
[[nodiscard]] ClientResult<std::vector<OwnedFile>> list_owned_files(
    const Session& session, const HttpOptions& http, const Notice& notice = stderr_notice);
[[nodiscard]] ClientResult<void> delete_owned_file(const Session& session, std::string_view file_id,
                                                   const HttpOptions& http);
// Renames one of the account's files: its encrypted metadata is decrypted with the file secret
// from the account's listing, given `new_name` (size and type stay), encrypted again under a
// fresh salt and sent (PATCH /api/v1/files/<id> {"meta"}); the link page and `ls` then show
// the new name. Returns the new metadata. Needs a login session (bad_argument when
// token_only); bad_argument for a name new_name_problem refuses; not_found for a file that is
// not the account's.
[[nodiscard]] ClientResult<FileMetadata> rename_owned_file(const Session& session,
                                                           std::string_view file_id,
                                                           std::string_view new_name,
                                                           const HttpOptions& http);

}  // namespace satload::client
