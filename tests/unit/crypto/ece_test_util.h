// Test helpers for RFC 8188: a reference record writer on raw OpenSSL that can produce what
// satload's encoder never does (padding, bad delimiters, short non-last records), and
// small conveniences shared by the ece tests.
#pragma once

#include <openssl/evp.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "core/check.h"
#include "core/encoding.h"
#include "crypto/ece.h"
#include "crypto/primitives.h"

namespace satload::crypto::ece::testing {

inline Bytes b64u(std::string_view text) {
    auto b = base64url_decode(text);
    SATLOAD_ASSERT(b.has_value());
    return *b;
}

inline Key key_from(ByteSpan b) {
    SATLOAD_ASSERT(b.size() == kKeyBytes);
    Key k{};
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}

inline Salt salt_from(ByteSpan b) {
    SATLOAD_ASSERT(b.size() == kSaltBytes);
    Salt s{};
    std::copy(b.begin(), b.end(), s.begin());
    return s;
}

// Deterministic test data: byte i is a function of i, so misplaced bytes show.
inline Bytes pattern(std::size_t size, std::uint8_t seed = 0) {
    Bytes b(size);
    for (std::size_t i = 0; i < size; ++i) {
        b[i] = static_cast<std::uint8_t>((i * 131 + (i >> 8) * 7 + seed) & 0xff);
    }
    return b;
}

inline bool small_tests() {
    return std::getenv("SATLOAD_SMALL_TESTS") != nullptr;
}

// Encrypts `padded` (data || delimiter || padding, exactly as given) as record `index`,
// deriving CEK and nonce per RFC 8188 sections 2.2 and 2.3 without using ece.cpp.
inline Bytes reference_record(const Key& ikm, const Salt& salt, std::uint64_t index,
                              ByteSpan padded) {
    std::array<std::uint8_t, 16> cek{};
    std::array<std::uint8_t, 12> nonce{};
    hkdf_sha256(ikm, salt, as_bytes(std::string_view("Content-Encoding: aes128gcm\0", 28)), cek);
    hkdf_sha256(ikm, salt, as_bytes(std::string_view("Content-Encoding: nonce\0", 24)), nonce);
    for (int i = 0; i < 8; ++i) {
        nonce[static_cast<std::size_t>(11 - i)] ^= static_cast<std::uint8_t>(index >> (8 * i));
    }
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    SATLOAD_ASSERT(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, cek.data(), nonce.data()));
    Bytes out(padded.size() + 16);
    int len = 0;
    if (!padded.empty()) {
        SATLOAD_ASSERT(EVP_EncryptUpdate(ctx, out.data(), &len, padded.data(),
                                         static_cast<int>(padded.size())));
    }
    SATLOAD_ASSERT(EVP_EncryptFinal_ex(ctx, out.data() + padded.size(), &len));
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + padded.size()));
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

inline Bytes concat(std::initializer_list<ByteSpan> parts) {
    Bytes out;
    for (ByteSpan p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace satload::crypto::ece::testing
