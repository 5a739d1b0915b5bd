// BIP39: words are 11-bit groups of entropy || SHA-256(entropy)[first entropy_bits/32 bits].
#include "chain/bip39.h"

#include <algorithm>
#include <vector>

#include "chain/hashes.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::chain {
namespace {

constexpr std::size_t kBitsPerWord = 11;
constexpr std::string_view kSaltPrefix = "mnemonic";

bool valid_entropy_size(std::size_t n) {
    return n >= kBip39MinEntropyBytes && n <= kBip39MaxEntropyBytes && n % 4 == 0;
}

// The word's index, by binary search: the list is sorted (a unit test checks it).
std::optional<std::size_t> word_index(std::string_view word) {
    const auto& words = bip39_english_words();
    const auto it = std::lower_bound(words.begin(), words.end(), word);
    if (it == words.end() || *it != word) return std::nullopt;
    return static_cast<std::size_t>(it - words.begin());
}

bool bit(ByteSpan bytes, std::size_t i) { return ((bytes[i / 8] >> (7 - i % 8)) & 1) != 0; }

}  // namespace

std::string_view mnemonic_error_name(MnemonicError e) {
    switch (e) {
        case MnemonicError::bad_entropy_length:
            return "bad_entropy_length";
        case MnemonicError::empty:
            return "empty";
        case MnemonicError::too_long:
            return "too_long";
        case MnemonicError::bad_spacing:
            return "bad_spacing";
        case MnemonicError::bad_length:
            return "bad_length";
        case MnemonicError::unknown_word:
            return "unknown_word";
        case MnemonicError::bad_checksum:
            return "bad_checksum";
        case MnemonicError::passphrase_too_long:
            return "passphrase_too_long";
        case MnemonicError::passphrase_not_ascii:
            return "passphrase_not_ascii";
    }
    return "unknown";
}

Bip39Seed::~Bip39Seed() { crypto::secure_wipe(bytes); }

Result<std::string, MnemonicError> mnemonic_from_entropy(ByteSpan entropy) {
    if (!valid_entropy_size(entropy.size())) return fail(MnemonicError::bad_entropy_length);
    const crypto::Sha256Digest check = crypto::sha256(entropy);
    // entropy || the checksum's first byte (at most 8 checksum bits are ever needed).
    std::vector<std::uint8_t> bits(entropy.begin(), entropy.end());
    bits.push_back(check[0]);
    const std::size_t total_bits = entropy.size() * 8 + entropy.size() / 4;
    const auto& words = bip39_english_words();
    std::string out;
    out.reserve(kMaxMnemonicChars);
    for (std::size_t w = 0; w < total_bits / kBitsPerWord; ++w) {
        std::size_t index = 0;
        for (std::size_t b = 0; b < kBitsPerWord; ++b) {
            index = (index << 1) | (bit(bits, w * kBitsPerWord + b) ? 1u : 0u);
        }
        if (w != 0) out.push_back(' ');
        out.append(words[index]);
    }
    crypto::secure_wipe(bits.data(), bits.size());
    return out;
}

Result<Bytes, MnemonicError> mnemonic_to_entropy(std::string_view mnemonic) {
    if (mnemonic.empty()) return fail(MnemonicError::empty);
    if (mnemonic.size() > kMaxMnemonicChars) return fail(MnemonicError::too_long);

    // Split on single spaces; anything else between words is a spacing error, and anything
    // inside a word that is not a list word is an unknown word.
    std::vector<std::size_t> indices;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = std::min(mnemonic.find(' ', start), mnemonic.size());
        const std::string_view word = mnemonic.substr(start, end - start);
        if (word.empty()) return fail(MnemonicError::bad_spacing);
        for (const char c : word) {
            if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
                return fail(MnemonicError::bad_spacing);
            }
        }
        const auto index = word_index(word);
        if (!index) return fail(MnemonicError::unknown_word);
        indices.push_back(*index);
        if (end == mnemonic.size()) break;
        start = end + 1;
    }
    const std::size_t n = indices.size();
    if (n < 12 || n > 24 || n % 3 != 0) return fail(MnemonicError::bad_length);

    const std::size_t total_bits = n * kBitsPerWord;
    const std::size_t checksum_bits = total_bits / 33;
    const std::size_t entropy_bytes = (total_bits - checksum_bits) / 8;
    std::vector<std::uint8_t> bits((total_bits + 7) / 8, 0);
    for (std::size_t w = 0; w < n; ++w) {
        for (std::size_t b = 0; b < kBitsPerWord; ++b) {
            if ((indices[w] >> (kBitsPerWord - 1 - b)) & 1) {
                const std::size_t i = w * kBitsPerWord + b;
                bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | (0x80u >> (i % 8)));
            }
        }
    }
    std::fill(indices.begin(), indices.end(), 0);
    Bytes entropy(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(entropy_bytes));
    const crypto::Sha256Digest check = crypto::sha256(entropy);
    const auto want = static_cast<std::uint8_t>(check[0] >> (8 - checksum_bits));
    const auto got = static_cast<std::uint8_t>(bits[entropy_bytes] >> (8 - checksum_bits));
    crypto::secure_wipe(bits.data(), bits.size());
    if (want != got) {
        crypto::secure_wipe(entropy.data(), entropy.size());
        return fail(MnemonicError::bad_checksum);
    }
    return entropy;
}

Result<Bip39Seed, MnemonicError> mnemonic_to_seed(std::string_view mnemonic,
                                                  std::string_view passphrase) {
    auto entropy = mnemonic_to_entropy(mnemonic);
    if (!entropy) return fail(entropy.error());
    crypto::secure_wipe(entropy->data(), entropy->size());
    if (passphrase.size() > kMaxPassphraseChars) return fail(MnemonicError::passphrase_too_long);
    for (const char c : passphrase) {
        if (static_cast<unsigned char>(c) >= 0x80) return fail(MnemonicError::passphrase_not_ascii);
    }
    std::string salt(kSaltPrefix);
    salt.append(passphrase);
    Bip39Seed seed;
    pbkdf2_hmac_sha512(as_bytes(mnemonic), as_bytes(salt), kBip39Pbkdf2Iterations, seed.bytes);
    crypto::secure_wipe(salt.data(), salt.size());
    return seed;
}

}  // namespace satload::chain
