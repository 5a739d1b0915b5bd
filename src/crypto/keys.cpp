// The file key schedule: HKDF-SHA256 from the link secret to the content and metadata IKMs,
// and the secret's text form in the link fragment.
#include "crypto/keys.h"

#include <algorithm>

#include "crypto/primitives.h"

namespace satload::crypto {
namespace {

// Domain separation labels of docs/DESIGN.md "keys"; changing them changes every file key.
constexpr std::string_view kContentInfo = "satload/v1 content";
constexpr std::string_view kMetadataInfo = "satload/v1 metadata";
// base64url without padding of 16 bytes.
constexpr std::size_t kFileSecretChars = 22;

}  // namespace

FileKeys::~FileKeys() {
    secure_wipe(content_ikm);
    secure_wipe(metadata_ikm);
}

FileKeys derive_file_keys(const FileSecret& secret) {
    FileKeys keys;
    // An empty salt: the secret is already uniformly random, HKDF only separates the uses.
    hkdf_sha256(secret, {}, as_bytes(kContentInfo), keys.content_ikm);
    hkdf_sha256(secret, {}, as_bytes(kMetadataInfo), keys.metadata_ikm);
    return keys;
}

std::string secret_to_text(const FileSecret& secret) {
    return base64url_encode(secret);
}

std::optional<FileSecret> secret_from_text(std::string_view text) {
    if (text.size() != kFileSecretChars) return std::nullopt;
    auto bytes = base64url_decode(text);
    if (!bytes || bytes->size() != kFileSecretBytes) return std::nullopt;
    FileSecret secret{};
    std::copy(bytes->begin(), bytes->end(), secret.begin());
    secure_wipe(bytes->data(), bytes->size());
    return secret;
}

}  // namespace satload::crypto
