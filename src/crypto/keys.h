// The key schedule of a file (docs/DESIGN.md "keys"): one random 128-bit secret per file,
// carried in the link fragment; content and metadata IKMs derived from it with HKDF-SHA256.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/ece.h"

namespace satload::crypto {

inline constexpr std::size_t kFileSecretBytes = 16;
using FileSecret = std::array<std::uint8_t, kFileSecretBytes>;

struct FileKeys {
    ece::Key content_ikm{};   // HKDF(secret, salt="", info="satload/v1 content", 16)
    ece::Key metadata_ikm{};  // HKDF(secret, salt="", info="satload/v1 metadata", 16)
    ~FileKeys();              // wipes both
};

[[nodiscard]] FileKeys derive_file_keys(const FileSecret& secret);

// The fragment form: base64url without padding (22 characters).
[[nodiscard]] std::string secret_to_text(const FileSecret& secret);
[[nodiscard]] std::optional<FileSecret> secret_from_text(std::string_view text);

}  // namespace satload::crypto
