// The platform's wallet seed at rest: 32 bytes of BIP39 entropy (a 24-word mnemonic), kept in
// <data>/wallet.seed encrypted under a key stretched from the operator's passphrase.
//
// File (92 bytes, integers big-endian): "SLSEED1\0" | Argon2id opslimit u32 | memlimit KiB u32
// | salt 16 | nonce 12 | AES-256-GCM ciphertext 32 | tag 16. The header (magic to nonce) is the
// associated data, so a changed KDF parameter fails like a wrong passphrase.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bip32.h"
#include "chain/network.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::onchain {

inline constexpr std::string_view kSeedFileName = "wallet.seed";
inline constexpr std::size_t kSeedEntropyBytes = 32;
inline constexpr std::size_t kSeedSaltBytes = 16;
inline constexpr std::size_t kSeedNonceBytes = 12;
inline constexpr std::size_t kSeedTagBytes = 16;
inline constexpr std::size_t kSeedHeaderBytes = 8 + 4 + 4 + kSeedSaltBytes + kSeedNonceBytes;
inline constexpr std::size_t kSeedFileBytes = kSeedHeaderBytes + kSeedEntropyBytes + kSeedTagBytes;
// Largest passphrase file read (a passphrase, not a document).
inline constexpr std::size_t kMaxPassphraseBytes = 1024;

// Argon2id cost: libsodium's "moderate" time with 64 MiB, about half a second here, paid once
// per start. Stored in the file, so a later change of these defaults still opens old files.
struct SeedKdfParams {
    std::uint32_t opslimit = 3;
    std::uint32_t memlimit_kib = 64 * 1024;
};
// The smallest cost a file may name: anything lower would be a downgrade an attacker chose.
inline constexpr SeedKdfParams kMinSeedKdf{1, 8 * 1024};
inline constexpr std::uint32_t kMaxSeedKdfOps = 64;
inline constexpr std::uint32_t kMaxSeedKdfMemKib = 4 * 1024 * 1024;

enum class SeedError {
    io,                // the file could not be read or written
    malformed,         // wrong size, magic or KDF parameters
    wrong_passphrase,  // authentication failed: wrong passphrase or a changed file
    kdf_failed,        // Argon2id could not run (out of memory)
    conflict,          // the data directory's seed file and the database's seed differ
    database,          // the database holding the shared seed could not be read or written
};

[[nodiscard]] std::string_view seed_error_name(SeedError e);

struct SeedFailure {
    SeedError code;
    std::string message;
};

// Secret entropy that wipes itself.
struct SeedEntropy {
    std::array<std::uint8_t, kSeedEntropyBytes> bytes{};
    SeedEntropy() = default;
    SeedEntropy(const SeedEntropy&) = default;
    SeedEntropy& operator=(const SeedEntropy&) = default;
    ~SeedEntropy();
};

// The KDF cost a seed file names, once its size, magic and the cost's bounds are checked: what
// decrypt_seed reads before it runs Argon2id (malformed otherwise). Fuzzed
// (fuzz/onchain_seed_fuzz.cpp), since a file naming a huge cost would cost that much to open.
[[nodiscard]] Result<SeedKdfParams, SeedFailure> seed_file_kdf(ByteSpan file);

// `params` must lie within kMinSeedKdf and the maxima, or the file could not be opened again.
[[nodiscard]] Bytes encrypt_seed(const SeedEntropy& entropy, std::string_view passphrase,
                                 SeedKdfParams params = {});
[[nodiscard]] Result<SeedEntropy, SeedFailure> decrypt_seed(ByteSpan file, std::string_view passphrase);

struct LoadedSeed {
    SeedEntropy entropy;
    bool created = false;   // this call made the file (or, shared, the database's seed)
    bool moved_in = false;  // shared: the data directory's file became the database's seed
};
// The bytes of a seed file, or nullopt when there is none (io when it cannot be read). The
// size is not checked here: decrypt_seed refuses a wrong one.
[[nodiscard]] Result<std::optional<Bytes>, SeedFailure> read_seed_file(const std::filesystem::path& file);
// Reads the file, or creates it (0600, fsync, rename) with fresh random entropy when absent.
[[nodiscard]] Result<LoadedSeed, SeedFailure> load_or_create_seed(const std::filesystem::path& file,
                                                                  std::string_view passphrase,
                                                                  SeedKdfParams params = {});

// BIP84 account 0 of the seed (m/84'/coin'/0'), through its mnemonic with no BIP39 passphrase,
// so an operator can recover the funds in any BIP84 wallet from the 24 words.
[[nodiscard]] chain::ExtendedKey account_key(const SeedEntropy& entropy, const chain::NetworkParams& network);

// The passphrase from a file (trailing newline dropped) or from the environment variable
// SATLOAD_SEED_PASSPHRASE; empty when neither. An unreadable or oversized file is an error.
[[nodiscard]] Result<std::string, std::string> read_seed_passphrase(const std::string& file);

}  // namespace satload::onchain
