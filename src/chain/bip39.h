// BIP39 mnemonics (English wordlist): entropy to words with its checksum, validation back to
// entropy with a named reason for every refusal, and the 64-byte seed
// PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048).
//
// Only the canonical text is accepted: lowercase words from the list separated by single
// spaces. The seed is a hash of the exact text, so accepting variants (double spaces,
// capitals) would turn one typing slip into a different, empty wallet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

inline constexpr std::size_t kBip39WordCount = 2048;
inline constexpr std::size_t kBip39MinEntropyBytes = 16;  // 12 words
inline constexpr std::size_t kBip39MaxEntropyBytes = 32;  // 24 words
inline constexpr std::size_t kBip39SeedBytes = 64;
inline constexpr std::uint32_t kBip39Pbkdf2Iterations = 2048;
// The longest English word has 8 letters: 24 of them and 23 spaces.
inline constexpr std::size_t kMaxMnemonicChars = 24 * 8 + 23;
inline constexpr std::size_t kMaxPassphraseChars = 1024;

// The list, in its order (a word's index is its 11-bit value).
[[nodiscard]] const std::array<std::string_view, kBip39WordCount>& bip39_english_words();

enum class MnemonicError {
    bad_entropy_length,    // entropy not 16, 20, 24, 28 or 32 bytes
    empty,                 // ""
    too_long,              // more than kMaxMnemonicChars
    bad_spacing,           // leading, trailing or doubled spaces, or another separator
    bad_length,            // not 12, 15, 18, 21 or 24 words
    unknown_word,          // a word not in the list (capitalized words included)
    bad_checksum,          // the last bits are not the SHA-256 of the entropy
    passphrase_too_long,   // more than kMaxPassphraseChars
    passphrase_not_ascii,  // BIP39 wants NFKD; ASCII is the only text we can be sure is in it
};

[[nodiscard]] std::string_view mnemonic_error_name(MnemonicError e);

// A seed that wipes itself.
struct Bip39Seed {
    std::array<std::uint8_t, kBip39SeedBytes> bytes{};
    Bip39Seed() = default;
    Bip39Seed(const Bip39Seed&) = default;
    Bip39Seed& operator=(const Bip39Seed&) = default;
    ~Bip39Seed();
};

// The words of the entropy. The result is secret: callers wipe it (crypto::secure_wipe).
[[nodiscard]] Result<std::string, MnemonicError> mnemonic_from_entropy(ByteSpan entropy);
// Checks the text and returns the entropy it encodes (secret as well).
[[nodiscard]] Result<Bytes, MnemonicError> mnemonic_to_entropy(std::string_view mnemonic);
// Validates the mnemonic and the passphrase, then stretches them into the seed.
[[nodiscard]] Result<Bip39Seed, MnemonicError> mnemonic_to_seed(std::string_view mnemonic,
                                                                std::string_view passphrase);

}  // namespace satload::chain
