// A file's metadata {"name","size","type"}: built from the source file on upload, encrypted
// with the metadata IKM as an RFC 8188 body, and decrypted and checked on download.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/error.h"
#include "crypto/ece.h"

namespace satload::client {

// A file name is at most 255 bytes on every common file system.
inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::size_t kMaxTypeBytes = 127;
// Plaintext JSON limit: name and type escaped at worst 6 bytes per byte, plus the rest.
inline constexpr std::size_t kMaxMetadataJsonBytes = 4096;
// Encrypted metadata as base64url text, as it travels in the API and Upload-Metadata.
inline constexpr std::size_t kMaxMetadataTextChars = 8192;
// Record size of the metadata body: one record holds any metadata we accept.
inline constexpr std::uint32_t kMetadataRecordSize = 8192;

struct FileMetadata {
    std::string name;  // valid UTF-8, at most kMaxNameBytes; not necessarily a safe file name
    std::uint64_t size_bytes = 0;
    std::string type;  // a media type such as "text/plain"
};

// The media type for a file name's extension, "application/octet-stream" when unknown.
[[nodiscard]] std::string guess_media_type(std::string_view name);

// Replaces every invalid UTF-8 sequence with U+FFFD, so any file name can travel in JSON.
[[nodiscard]] std::string to_valid_utf8(std::string_view bytes);

// Why `name` cannot be a file's new name (empty, longer than kMaxNameBytes, not UTF-8, or
// holding a control character), in words, or nullopt when it can. A rename is checked this
// strictly; a name taken from a local file at upload is repaired instead (to_valid_utf8).
[[nodiscard]] std::optional<std::string> new_name_problem(std::string_view name);

[[nodiscard]] std::string metadata_to_json(const FileMetadata& meta);
[[nodiscard]] ClientResult<FileMetadata> metadata_from_json(std::string_view json);

// Encrypts the JSON with a fresh random salt; returns the body as base64url text.
[[nodiscard]] std::string encrypt_metadata(const FileMetadata& meta,
                                           const crypto::ece::Key& metadata_ikm);
// Decodes, decrypts and parses; authentication_failed when the key or the bytes are wrong.
[[nodiscard]] ClientResult<FileMetadata> decrypt_metadata(std::string_view text,
                                                          const crypto::ece::Key& metadata_ikm);

// The name to write a download to when no -o is given: the last path component, control
// characters and invalid UTF-8 replaced, leading dots and dashes dropped (no surprise hidden
// files or options), "." and ".." refused, cut to a length that leaves room for the
// temporary name beside it. Falls back to `fallback` when nothing usable is left.
inline constexpr std::size_t kMaxSafeNameBytes = 200;
[[nodiscard]] std::string safe_file_name(std::string_view name, std::string_view fallback);

}  // namespace satload::client
