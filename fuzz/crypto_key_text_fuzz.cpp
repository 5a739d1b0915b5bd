// Fuzzes the text forms of keys and ids a user pastes or a link carries: the file secret of a
// link fragment (crypto/keys.h), the recovery key (crypto/account_keys.h) and file and upload
// ids (core/ids.h). No crash; each accepted text is the canonical text of what it parsed to
// (ids and secrets) or normalises to it (the recovery key's case, blanks, dashes and look-alike
// letters); every value drawn from the input formats to a text that parses back to it.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/account_keys.h"
#include "crypto/keys.h"

namespace crypto = satload::crypto;

namespace {

// The recovery text as the parser reads it: no blanks or dashes, upper case, I L -> 1, O -> 0.
std::string normalise_recovery(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == ' ' || c == '-') continue;
        char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (u == 'I' || u == 'L') u = '1';
        if (u == 'O') u = '0';
        out.push_back(u);
    }
    return out;
}

// An id text accepted is the text of the bytes it decodes to.
template <std::size_t N>
void check_id(std::string_view text, bool (*is_id)(std::string_view),
              std::string (*id_text)(const std::array<std::uint8_t, N>&)) {
    if (!is_id(text)) return;
    const auto bytes = satload::base64url_decode(text);
    if (!bytes || bytes->size() != N) std::abort();
    std::array<std::uint8_t, N> id{};
    std::copy(bytes->begin(), bytes->end(), id.begin());
    if (id_text(id) != text) std::abort();
}

void check_texts(std::string_view text) {
    if (const auto secret = crypto::secret_from_text(text)) {
        if (crypto::secret_to_text(*secret) != text) std::abort();
    }
    if (const auto key = crypto::recovery_key_from_text(text)) {
        const std::string formatted = crypto::recovery_key_to_text(*key);
        if (formatted.size() != crypto::kRecoveryTextChars + crypto::kRecoveryTextChars / crypto::kRecoveryTextGroupChars - 1) {
            std::abort();
        }
        const auto again = crypto::recovery_key_from_text(formatted);
        if (!again || !(*again == *key)) std::abort();
        if (normalise_recovery(formatted) != normalise_recovery(text)) std::abort();
    }
    check_id<satload::kFileIdBytes>(text, satload::is_file_id, satload::file_id_text);
    check_id<satload::kUploadIdBytes>(text, satload::is_upload_id, satload::upload_id_text);
}

void check_values(satload::ByteSpan input) {
    // Pad the input to the largest value drawn (32 bytes) so every input draws all of them.
    satload::Bytes bytes(input.begin(), input.end());
    bytes.resize(std::max<std::size_t>(bytes.size(), 32), 0);
    crypto::FileSecret secret{};
    std::copy_n(bytes.begin(), secret.size(), secret.begin());
    const auto secret_back = crypto::secret_from_text(crypto::secret_to_text(secret));
    if (!secret_back || *secret_back != secret) std::abort();

    const auto key = crypto::RecoveryKey::from(satload::ByteSpan(bytes).first(crypto::kAccountKeyBytes));
    if (!key) std::abort();
    const auto key_back = crypto::recovery_key_from_text(crypto::recovery_key_to_text(*key));
    if (!key_back || !(*key_back == *key)) std::abort();

    satload::FileIdBytes file_id{};
    std::copy_n(bytes.begin(), file_id.size(), file_id.begin());
    if (!satload::is_file_id(satload::file_id_text(file_id))) std::abort();
    satload::UploadIdBytes upload_id{};
    std::copy_n(bytes.begin(), upload_id.size(), upload_id.begin());
    if (!satload::is_upload_id(satload::upload_id_text(upload_id))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_texts(std::string_view(reinterpret_cast<const char*>(data), size));
    check_values(satload::ByteSpan(data, size));
    return 0;
}
