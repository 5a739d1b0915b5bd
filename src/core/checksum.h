// A fast non-cryptographic checksum (XXH3-128, from libxxhash) for detecting storage
// corruption on the hot read path, where SHA-256 would cost more than sending the bytes.
// Tamper-evidence is SHA-256's job (the scrub) and AES-GCM's (every client checks records).
#pragma once

#include <string>

#include "core/encoding.h"

namespace satload {

class Xxh3Checksum {
public:
    Xxh3Checksum();
    ~Xxh3Checksum();
    Xxh3Checksum(const Xxh3Checksum&) = delete;
    Xxh3Checksum& operator=(const Xxh3Checksum&) = delete;

    void update(ByteSpan data);
    // 32 lowercase hex digits (the canonical big-endian form of the 128-bit value).
    [[nodiscard]] std::string finish_hex();
    // Takes `other`'s state: as if fed the same bytes (to keep a checksum of a prefix going).
    void assign(const Xxh3Checksum& other);

private:
    void* m_state;  // XXH3_state_t
};

}  // namespace satload
