// Thin wrappers over OpenSSL: randomness, SHA-256, HKDF-SHA256, HMAC-SHA256, secure wiping
// and constant-time comparison. Everything secret-bearing goes through these.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/encoding.h"

namespace satload::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Fills `out` from the OS CSPRNG (RAND_bytes); aborts if the generator fails, since no
// caller can continue safely without randomness.
void random_bytes(std::span<std::uint8_t> out);

// A length for an OpenSSL call that takes an int; a larger one is a programmer's mistake
// (callers bound their inputs far below), so it aborts.
[[nodiscard]] int openssl_length(std::size_t size);

// Overwrites memory in a way the compiler may not elide (OPENSSL_cleanse).
void secure_wipe(void* data, std::size_t size);
// Overwrites a string's characters (a secret in a JSON body, a token); its length stays.
void secure_wipe(std::string& text);
// Overwrites an object's bytes: arrays and other plain objects only (a string's or a vector's
// bytes are elsewhere, and overwriting their object would break it).
template <class T>
requires std::is_trivially_copyable_v<T>
void secure_wipe(T& object) {
    secure_wipe(static_cast<void*>(&object), sizeof(object));
}

// Constant-time equality; different lengths compare unequal (length is not secret).
[[nodiscard]] bool constant_time_equal(ByteSpan a, ByteSpan b);

[[nodiscard]] Sha256Digest sha256(ByteSpan data);

// Incremental SHA-256.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(ByteSpan data);
    [[nodiscard]] Sha256Digest finish();
    // Takes `other`'s state: as if fed the same bytes (to keep a hash of a prefix going).
    void assign(const Sha256& other);

private:
    void* m_ctx;  // EVP_MD_CTX
};

// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to out.size() bytes.
void hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::span<std::uint8_t> out);

[[nodiscard]] Sha256Digest hmac_sha256(ByteSpan key, ByteSpan data);

}  // namespace satload::crypto
