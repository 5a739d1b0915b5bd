// OpenSSL 3 (EVP) implementations of the primitives in primitives.h. A failing OpenSSL call
// here means memory exhaustion or a broken library, never bad input, so it aborts.
#include "crypto/primitives.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "core/check.h"

namespace satload::crypto {
namespace {

// HKDF and HMAC take parameter pointers that must not be null even for empty inputs.
const std::uint8_t kEmpty[1] = {0};

const std::uint8_t* data_or_empty(ByteSpan s) {
    return s.empty() ? kEmpty : s.data();
}

EVP_MD_CTX* md_ctx(void* p) {
    return static_cast<EVP_MD_CTX*>(p);
}

// OpenSSL 3 looks an algorithm up by name on every implicit use (EVP_sha256() in an init,
// EVP_Q_mac, a fetch per call): that lookup cost an HMAC of a few dozen bytes about 15 times
// its hashing, and the paywall chains several per request. The algorithms are fetched once,
// for the life of the process.
const EVP_MD* sha256_md() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    SATLOAD_ASSERT(md != nullptr);
    return md;
}

EVP_KDF* hkdf_kdf() {
    static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
    SATLOAD_ASSERT(kdf != nullptr);
    return kdf;
}

// One HMAC-SHA256 context per thread, its digest set once; each MAC re-keys it.
struct MacCtxFree {
    void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

EVP_MAC_CTX* hmac_sha256_ctx() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    SATLOAD_ASSERT(mac != nullptr);
    thread_local const std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx = [] {
        std::unique_ptr<EVP_MAC_CTX, MacCtxFree> c(EVP_MAC_CTX_new(mac));
        SATLOAD_ASSERT(c != nullptr);
        char digest_name[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                     OSSL_PARAM_construct_end()};
        SATLOAD_ASSERT(EVP_MAC_CTX_set_params(c.get(), params) == 1);
        return c;
    }();
    return ctx.get();
}

}  // namespace

void random_bytes(std::span<std::uint8_t> out) {
    // RAND_bytes takes an int count; fill in pieces so any span size works.
    constexpr std::size_t kPieceBytes = 1u << 20;
    while (!out.empty()) {
        const std::size_t n = std::min(out.size(), kPieceBytes);
        SATLOAD_ASSERT(RAND_bytes(out.data(), openssl_length(n)) == 1);
        out = out.subspan(n);
    }
}

void secure_wipe(void* data, std::size_t size) {
    if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

int openssl_length(std::size_t size) {
    SATLOAD_ASSERT(size <= static_cast<std::size_t>(std::numeric_limits<int>::max()));
    return static_cast<int>(size);
}

void secure_wipe(std::string& text) { secure_wipe(text.data(), text.size()); }

bool constant_time_equal(ByteSpan a, ByteSpan b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256Digest sha256(ByteSpan data) {
    Sha256Digest digest{};
    unsigned int len = 0;
    SATLOAD_ASSERT(EVP_Digest(data_or_empty(data), data.size(), digest.data(), &len, sha256_md(),
                              nullptr) == 1);
    SATLOAD_ASSERT(len == digest.size());
    return digest;
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
    SATLOAD_ASSERT(m_ctx != nullptr);
    SATLOAD_ASSERT(EVP_DigestInit_ex(md_ctx(m_ctx), sha256_md(), nullptr) == 1);
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(md_ctx(m_ctx));
}

void Sha256::update(ByteSpan data) {
    if (data.empty()) return;
    SATLOAD_ASSERT(EVP_DigestUpdate(md_ctx(m_ctx), data.data(), data.size()) == 1);
}

void Sha256::assign(const Sha256& other) {
    SATLOAD_ASSERT(EVP_MD_CTX_copy_ex(md_ctx(m_ctx), md_ctx(other.m_ctx)) == 1);
}

Sha256Digest Sha256::finish() {
    Sha256Digest digest{};
    unsigned int len = 0;
    SATLOAD_ASSERT(EVP_DigestFinal_ex(md_ctx(m_ctx), digest.data(), &len) == 1);
    SATLOAD_ASSERT(len == digest.size());
    // Start over so the object can hash another message.
    SATLOAD_ASSERT(EVP_DigestInit_ex(md_ctx(m_ctx), sha256_md(), nullptr) == 1);
    return digest;
}

void hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::span<std::uint8_t> out) {
    // RFC 5869 caps the output at 255 hash lengths.
    SATLOAD_ASSERT(!out.empty() && out.size() <= 255u * 32u);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(hkdf_kdf());
    SATLOAD_ASSERT(ctx != nullptr);

    char digest_name[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(data_or_empty(ikm)), ikm.size());
    // An absent salt is, per RFC 5869, HashLen zero bytes; OpenSSL applies that itself.
    if (!salt.empty()) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
    }
    if (!info.empty()) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
    }
    params[n] = OSSL_PARAM_construct_end();

    const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
    EVP_KDF_CTX_free(ctx);  // clears its copy of the key material
    SATLOAD_ASSERT(ok == 1);
}

Sha256Digest hmac_sha256(ByteSpan key, ByteSpan data) {
    Sha256Digest mac{};
    std::size_t len = 0;
    EVP_MAC_CTX* ctx = hmac_sha256_ctx();
    SATLOAD_ASSERT(EVP_MAC_init(ctx, data_or_empty(key), key.size(), nullptr) == 1);
    SATLOAD_ASSERT(EVP_MAC_update(ctx, data_or_empty(data), data.size()) == 1);
    SATLOAD_ASSERT(EVP_MAC_final(ctx, mac.data(), &len, mac.size()) == 1);
    SATLOAD_ASSERT(len == mac.size());
    // The context keeps the keyed state until the next init: re-key it with nothing secret.
    SATLOAD_ASSERT(EVP_MAC_init(ctx, kEmpty, 0, nullptr) == 1);
    return mac;
}

}  // namespace satload::crypto
