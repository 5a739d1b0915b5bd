// Seed encryption (Argon2id from libsodium, AES-256-GCM from OpenSSL) and the seed file.
#include "onchain/seed.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "chain/bip39.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::onchain {
namespace {

constexpr std::array<std::uint8_t, 8> kMagic{'S', 'L', 'S', 'E', 'E', 'D', '1', 0};
constexpr std::size_t kKeyBytes = 32;

void put_u32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_u32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// The key of the passphrase under this salt and cost; false when Argon2id cannot run.
bool derive_key(std::string_view passphrase, const std::uint8_t* salt, SeedKdfParams params,
                std::array<std::uint8_t, kKeyBytes>& key) {
    static_assert(kSeedSaltBytes == crypto_pwhash_SALTBYTES);
    if (sodium_init() < 0) return false;
    return crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt, params.opslimit,
                         static_cast<std::size_t>(params.memlimit_kib) * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

// AES-256-GCM in place over `data`; encrypt writes the tag, decrypt checks it.
bool aes_gcm(bool encrypt, const std::array<std::uint8_t, kKeyBytes>& key, const std::uint8_t* nonce,
             ByteSpan aad, std::span<std::uint8_t> data, std::uint8_t* tag) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    SATLOAD_ASSERT(ctx != nullptr);
    int len = 0;
    bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kSeedNonceBytes), nullptr) == 1 &&
              EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nonce, -1) == 1 &&
              EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
              EVP_CipherUpdate(ctx, data.data(), &len, data.data(), static_cast<int>(data.size())) == 1;
    if (ok && !encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kSeedTagBytes), tag) == 1;
    }
    std::uint8_t final_block[16];
    ok = ok && EVP_CipherFinal_ex(ctx, final_block, &len) == 1;
    if (ok && encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kSeedTagBytes), tag) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

SeedFailure seed_failure(SeedError code, std::string message) { return SeedFailure{code, std::move(message)}; }

bool kdf_within_bounds(SeedKdfParams params) {
    return params.opslimit >= kMinSeedKdf.opslimit && params.opslimit <= kMaxSeedKdfOps &&
           params.memlimit_kib >= kMinSeedKdf.memlimit_kib && params.memlimit_kib <= kMaxSeedKdfMemKib;
}

}  // namespace

SeedEntropy::~SeedEntropy() { crypto::secure_wipe(bytes.data(), bytes.size()); }

std::string_view seed_error_name(SeedError e) {
    switch (e) {
        case SeedError::io: return "io";
        case SeedError::malformed: return "malformed";
        case SeedError::wrong_passphrase: return "wrong_passphrase";
        case SeedError::kdf_failed: return "kdf_failed";
        case SeedError::conflict: return "conflict";
        case SeedError::database: return "database";
    }
    return "unknown";
}

Result<SeedKdfParams, SeedFailure> seed_file_kdf(ByteSpan file) {
    if (file.size() != kSeedFileBytes || !std::equal(kMagic.begin(), kMagic.end(), file.begin())) {
        return fail(seed_failure(SeedError::malformed, "the seed file is not a satload seed file"));
    }
    const SeedKdfParams params{get_u32(file.data() + 8), get_u32(file.data() + 12)};
    if (!kdf_within_bounds(params)) {
        return fail(seed_failure(SeedError::malformed, "the seed file names KDF costs out of range"));
    }
    return params;
}

Bytes encrypt_seed(const SeedEntropy& entropy, std::string_view passphrase, SeedKdfParams params) {
    SATLOAD_ASSERT(kdf_within_bounds(params));
    Bytes out(kSeedFileBytes);
    std::memcpy(out.data(), kMagic.data(), kMagic.size());
    put_u32(out.data() + 8, params.opslimit);
    put_u32(out.data() + 12, params.memlimit_kib);
    std::uint8_t* salt = out.data() + 16;
    std::uint8_t* nonce = salt + kSeedSaltBytes;
    crypto::random_bytes(std::span(salt, kSeedSaltBytes));
    crypto::random_bytes(std::span(nonce, kSeedNonceBytes));
    std::uint8_t* body = out.data() + kSeedHeaderBytes;
    std::memcpy(body, entropy.bytes.data(), kSeedEntropyBytes);
    std::array<std::uint8_t, kKeyBytes> key{};
    SATLOAD_ASSERT(derive_key(passphrase, salt, params, key));
    const bool ok = aes_gcm(true, key, nonce, ByteSpan(out.data(), kSeedHeaderBytes),
                            std::span(body, kSeedEntropyBytes), body + kSeedEntropyBytes);
    crypto::secure_wipe(key.data(), key.size());
    SATLOAD_ASSERT(ok);
    return out;
}

Result<SeedEntropy, SeedFailure> decrypt_seed(ByteSpan file, std::string_view passphrase) {
    const auto kdf = seed_file_kdf(file);
    if (!kdf) return fail(kdf.error());
    const SeedKdfParams params = *kdf;
    const std::uint8_t* salt = file.data() + 16;
    const std::uint8_t* nonce = salt + kSeedSaltBytes;
    SeedEntropy entropy;
    std::memcpy(entropy.bytes.data(), file.data() + kSeedHeaderBytes, kSeedEntropyBytes);
    std::array<std::uint8_t, kSeedTagBytes> tag{};
    std::memcpy(tag.data(), file.data() + kSeedHeaderBytes + kSeedEntropyBytes, kSeedTagBytes);
    std::array<std::uint8_t, kKeyBytes> key{};
    if (!derive_key(passphrase, salt, params, key)) {
        return fail(seed_failure(SeedError::kdf_failed, "Argon2id could not run (memory?)"));
    }
    const bool ok = aes_gcm(false, key, nonce, ByteSpan(file.data(), kSeedHeaderBytes), entropy.bytes, tag.data());
    crypto::secure_wipe(key.data(), key.size());
    if (!ok) {
        return fail(seed_failure(SeedError::wrong_passphrase,
                                 "the seed passphrase is wrong (or the seed file was changed)"));
    }
    return entropy;
}

Result<std::optional<Bytes>, SeedFailure> read_seed_file(const std::filesystem::path& file) {
    const std::string path = file.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<Bytes>();
        return fail(seed_failure(SeedError::io, "cannot open " + path));
    }
    // One byte more than a seed file, so an oversized file is seen (and refused as malformed).
    Bytes data(kSeedFileBytes + 1);
    const ssize_t n = ::read(fd, data.data(), data.size());
    ::close(fd);
    if (n < 0) return fail(seed_failure(SeedError::io, "cannot read " + path));
    data.resize(static_cast<std::size_t>(n));
    return std::optional<Bytes>(std::move(data));
}

Result<LoadedSeed, SeedFailure> load_or_create_seed(const std::filesystem::path& file, std::string_view passphrase,
                                                    SeedKdfParams params) {
    const std::string path = file.string();
    auto existing = read_seed_file(file);
    if (!existing) return fail(existing.error());
    if (*existing) {
        auto entropy = decrypt_seed(**existing, passphrase);
        if (!entropy) return fail(entropy.error());
        return LoadedSeed{*entropy, false, false};
    }
    LoadedSeed loaded;
    loaded.created = true;
    crypto::random_bytes(loaded.entropy.bytes);
    const Bytes data = encrypt_seed(loaded.entropy, passphrase, params);
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(seed_failure(SeedError::io, "cannot create " + tmp));
    const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return fail(seed_failure(SeedError::io, "cannot write " + path));
    // The rename is durable only once the directory is.
    const int dir = ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
    return loaded;
}

chain::ExtendedKey account_key(const SeedEntropy& entropy, const chain::NetworkParams& network) {
    auto words = chain::mnemonic_from_entropy(entropy.bytes);
    SATLOAD_ASSERT(words.has_value());
    auto seed = chain::mnemonic_to_seed(*words, "");
    crypto::secure_wipe(words->data(), words->size());
    SATLOAD_ASSERT(seed.has_value());
    auto master = chain::master_key_from_seed(seed->bytes);
    // An invalid master key or child has probability below 2^-127: a broken library, not luck.
    SATLOAD_ASSERT(master.has_value());
    auto account = chain::derive_path(*master, chain::bip84_account_path(network, 0));
    SATLOAD_ASSERT(account.has_value());
    return *account;
}

Result<std::string, std::string> read_seed_passphrase(const std::string& file) {
    if (file.empty()) {
        const char* env = std::getenv("SATLOAD_SEED_PASSPHRASE");
        if (env == nullptr) return std::string();
        std::string value(env);
        if (value.size() > kMaxPassphraseBytes) return fail(std::string("SATLOAD_SEED_PASSPHRASE is too long"));
        return value;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail("cannot read the seed passphrase file " + file);
    std::string value(kMaxPassphraseBytes + 1, '\0');
    in.read(value.data(), static_cast<std::streamsize>(value.size()));
    value.resize(static_cast<std::size_t>(in.gcount()));
    if (value.size() > kMaxPassphraseBytes) {
        crypto::secure_wipe(value.data(), value.size());
        return fail("the seed passphrase file " + file + " is too long");
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

}  // namespace satload::onchain
