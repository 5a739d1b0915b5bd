// Paid-download grants kept by the client: <SATLOAD_HOME>/grants/<file id>.json (mode 0600),
// {"macaroon", "preimage", "expires", "server"}, so a second download of a paid file sends the
// L402 credential again instead of paying again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "client/error.h"

namespace satload::client {

inline constexpr std::string_view kGrantsDirName = "grants";
// A stored grant is a few hundred bytes; anything larger is not ours.
inline constexpr std::size_t kMaxGrantFileBytes = 16 * 1024;
// SHA-256 preimages: 64 lowercase hex digits.
inline constexpr std::size_t kPreimageHexChars = 64;
// Longest macaroon text we keep (satload's are about 350 base64 characters).
inline constexpr std::size_t kMaxGrantMacaroonChars = 8192;

// A bearer credential: whoever holds macaroon and preimage downloads the file until `expires`.
struct StoredGrant {
    std::string macaroon;        // base64 V2 macaroon, as the server sent it
    std::string preimage;        // secret: 64 lowercase hex digits
    std::int64_t expires_s = 0;  // Unix seconds; the grant is live while now < expires_s
    std::string server;          // the server's base URL the grant is for ("" for any)

    StoredGrant() = default;
    StoredGrant(const StoredGrant&) = default;
    StoredGrant& operator=(const StoredGrant&) = default;
    StoredGrant(StoredGrant&&) = default;
    StoredGrant& operator=(StoredGrant&&) = default;
    ~StoredGrant();  // wipes the preimage and the macaroon

    [[nodiscard]] bool live_at(std::int64_t now_s) const { return now_s < expires_s; }
};

// The form the server checks: "L402 <macaroon>:<preimage>". Secret: wipe after use.
[[nodiscard]] std::string l402_authorization(const StoredGrant& grant);

// True for a macaroon text we are willing to store and send back in a header: base64 of
// either alphabet, padded or not, within kMaxGrantMacaroonChars.
[[nodiscard]] bool is_grant_macaroon(std::string_view text);
[[nodiscard]] bool is_preimage_hex(std::string_view text);

// The JSON document of a grant file, and its strict parse (state error when malformed).
[[nodiscard]] std::string grant_to_json(const StoredGrant& grant);
[[nodiscard]] ClientResult<StoredGrant> grant_from_json(std::string_view text);

// <home>/grants/<file id>.json; file ids are checked so that a path can never climb.
[[nodiscard]] ClientResult<std::filesystem::path> grant_path(const std::filesystem::path& home,
                                                             std::string_view file_id);
// Writes atomically (0600 file in a 0700 directory).
[[nodiscard]] ClientResult<void> save_grant(const std::filesystem::path& home,
                                            std::string_view file_id, const StoredGrant& grant);
// nullopt when there is no grant for the file; an error when the file is unreadable or malformed.
[[nodiscard]] ClientResult<std::optional<StoredGrant>> load_grant(const std::filesystem::path& home,
                                                                  std::string_view file_id);
// Removes the grant (absent is fine).
[[nodiscard]] ClientResult<void> remove_grant(const std::filesystem::path& home,
                                              std::string_view file_id);

}  // namespace satload::client
