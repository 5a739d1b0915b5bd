// Accounts from the client side: registration and login with keys derived locally (Argon2id
// never runs on the server), the session file under SATLOAD_HOME, and the account's files,
// whose names and links are decrypted here with the master key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "client/error.h"
#include "client/http.h"
#include "client/url.h"
#include "crypto/account_keys.h"

namespace satload::client {

// <SATLOAD_HOME>/session.json, mode 0600. It holds the session token and the master key (like
// other command-line tools keep their tokens): whoever reads it can read the account's files.
inline constexpr std::string_view kSessionFileName = "session.json";

struct Session {
    ServerUrl server;
    std::string username;
    std::string token;           // secret
    crypto::MasterKey master_key;  // secret
};

struct Registered {
    Session session;             // registering also logs in
    std::string recovery_text;   // shown once to the user; never stored by satload
};

[[nodiscard]] ClientResult<Registered> register_account(const ServerUrl& server, std::string_view username,
                                                        std::string_view password, const HttpOptions& http);
[[nodiscard]] ClientResult<Session> login(const ServerUrl& server, std::string_view username,
                                          std::string_view password, const HttpOptions& http);

// Revokes the session on the server, then removes the session file (also when the server
// already forgot the token).
[[nodiscard]] ClientResult<void> logout(const std::filesystem::path& home, const Session& session,
                                        const HttpOptions& http);

[[nodiscard]] ClientResult<void> save_session(const std::filesystem::path& home, const Session& session);
// not_found when nobody is logged in.
[[nodiscard]] ClientResult<Session> load_session(const std::filesystem::path& home);

struct AccountUsage {
    std::string username;
    std::uint64_t used_bytes = 0;
    std::uint64_t quota_bytes = 0;
};
[[nodiscard]] ClientResult<AccountUsage> account_usage(const Session& session, const HttpOptions& http);

struct OwnedFile {
    std::string file_id;
    std::string name;            // decrypted; "" when the upload is not complete
    std::uint64_t size_bytes = 0;  // the plaintext size from the metadata, else the ciphertext's
    std::int64_t created_s = 0;
    bool complete = false;
    std::string link;            // with the file secret in the fragment; "" if not complete
};
[[nodiscard]] ClientResult<std::vector<OwnedFile>> list_owned_files(const Session& session,
                                                                    const HttpOptions& http);
[[nodiscard]] ClientResult<void> delete_owned_file(const Session& session, std::string_view file_id,
                                                   const HttpOptions& http);

}  // namespace satload::client
