// OpenSSL 3 implementations of the hashes in hashes.h. A failing OpenSSL call here means memory
// exhaustion or a broken library, never bad input, so it aborts.
#include "chain/hashes.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::chain {
namespace {

// OpenSSL takes non-null pointers even for empty inputs.
const std::uint8_t kEmpty[1] = {0};

const std::uint8_t* data_or_empty(ByteSpan s) { return s.empty() ? kEmpty : s.data(); }

// A private library context holding the legacy provider: loaded once, kept for the life of
// the process.
OSSL_LIB_CTX* legacy_context() {
    static OSSL_LIB_CTX* const ctx = [] {
        OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
        SATLOAD_ASSERT(c != nullptr);
        if (OSSL_PROVIDER_load(c, "legacy") == nullptr) {
            ERR_clear_error();
            OSSL_LIB_CTX_free(c);
            return static_cast<OSSL_LIB_CTX*>(nullptr);
        }
        return c;
    }();
    return ctx;
}

EVP_MD* fetch_legacy_ripemd160() {
    OSSL_LIB_CTX* ctx = legacy_context();
    return ctx == nullptr ? nullptr : EVP_MD_fetch(ctx, "RIPEMD160", "provider=legacy");
}

struct Ripemd160Impl {
    EVP_MD* md = nullptr;
    Ripemd160Source source = Ripemd160Source::default_provider;
};

const Ripemd160Impl& ripemd160_impl() {
    static const Ripemd160Impl impl = [] {
        Ripemd160Impl r;
        r.md = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
        if (r.md == nullptr) {
            ERR_clear_error();  // the failed fetch left an entry; nobody else should see it
            r.md = fetch_legacy_ripemd160();
            r.source = Ripemd160Source::legacy_provider;
        }
        if (r.md == nullptr) {
            // No address can be made without it; a deployment without either provider is
            // broken, and saying so at the first use beats producing wrong addresses.
            std::fprintf(stderr, "satload: OpenSSL has no RIPEMD-160 (default or legacy)\n");
            std::abort();
        }
        return r;
    }();
    return impl;
}

Hash160 digest160(const EVP_MD* md, ByteSpan data) {
    Hash160 out{};
    unsigned int len = 0;
    SATLOAD_ASSERT(EVP_Digest(data_or_empty(data), data.size(), out.data(), &len, md, nullptr) ==
                   1);
    SATLOAD_ASSERT(len == out.size());
    return out;
}

}  // namespace

Hash256 sha256d(ByteSpan data) {
    const crypto::Sha256Digest once = crypto::sha256(data);
    return crypto::sha256(once);
}

Hash160 ripemd160(ByteSpan data) { return digest160(ripemd160_impl().md, data); }

Hash160 hash160(ByteSpan data) {
    const crypto::Sha256Digest sha = crypto::sha256(data);
    return ripemd160(sha);
}

Ripemd160Source ripemd160_source() { return ripemd160_impl().source; }

std::optional<Hash160> ripemd160_via_legacy_provider(ByteSpan data) {
    EVP_MD* md = fetch_legacy_ripemd160();
    if (md == nullptr) return std::nullopt;
    const Hash160 out = digest160(md, data);
    EVP_MD_free(md);
    return out;
}

Sha512Digest hmac_sha512(ByteSpan key, ByteSpan data) {
    Sha512Digest mac{};
    std::size_t len = 0;
    const std::uint8_t* result =
        EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA512", nullptr, data_or_empty(key), key.size(),
                  data_or_empty(data), data.size(), mac.data(), mac.size(), &len);
    SATLOAD_ASSERT(result != nullptr && len == mac.size());
    return mac;
}

void pbkdf2_hmac_sha512(ByteSpan password, ByteSpan salt, std::uint32_t iterations,
                        std::span<std::uint8_t> out) {
    SATLOAD_ASSERT(iterations >= 1 && !out.empty());
    SATLOAD_ASSERT(iterations <= static_cast<std::uint32_t>(std::numeric_limits<int>::max()));
    const int ok =
        PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(data_or_empty(password)),
                          crypto::openssl_length(password.size()), data_or_empty(salt),
                          crypto::openssl_length(salt.size()), static_cast<int>(iterations),
                          EVP_sha512(), crypto::openssl_length(out.size()), out.data());
    SATLOAD_ASSERT(ok == 1);
}

std::string hash_to_display_hex(const Hash256& hash) {
    Hash256 reversed = hash;
    std::reverse(reversed.begin(), reversed.end());
    return hex_encode(reversed);
}

std::optional<Hash256> hash_from_display_hex(std::string_view text) {
    if (text.size() != 64) return std::nullopt;
    const auto bytes = hex_decode(text);
    if (!bytes) return std::nullopt;
    Hash256 out{};
    std::reverse_copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

}  // namespace satload::chain
