// Identifiers: public file ids (in links) and upload ids (tus capabilities). Both are random
// bytes in base64url; the upload id is longer because knowing it grants write access.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace satload {

// 128 random bits: unguessable, short enough for a link.
inline constexpr std::size_t kFileIdBytes = 16;
inline constexpr std::size_t kFileIdChars = 22;
// 256 random bits: an upload URL is a write capability, so it gets a full-strength secret.
inline constexpr std::size_t kUploadIdBytes = 32;
inline constexpr std::size_t kUploadIdChars = 43;

using FileIdBytes = std::array<std::uint8_t, kFileIdBytes>;
using UploadIdBytes = std::array<std::uint8_t, kUploadIdBytes>;

[[nodiscard]] std::string file_id_text(const FileIdBytes& bytes);
// New file ids are drawn again while their text would start with '-' (base64url digit 62, the
// first byte's top six bits), so that `satload rm <id>` and friends never read an id as an
// option. Costs 1/64 of a bit of entropy; existing ids that start with '-' stay valid.
[[nodiscard]] constexpr bool file_id_text_starts_with_dash(const FileIdBytes& bytes) {
    return (bytes[0] >> 2) == 62;
}
[[nodiscard]] std::string upload_id_text(const UploadIdBytes& bytes);

// True only for the canonical text form (exact length, base64url alphabet, zero pad bits),
// so ids can be used as file names and keys without any further escaping.
[[nodiscard]] bool is_file_id(std::string_view text);
[[nodiscard]] bool is_upload_id(std::string_view text);

}  // namespace satload
