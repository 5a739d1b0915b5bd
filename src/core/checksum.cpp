// XXH3-128 over libxxhash's streaming API.
#include "core/checksum.h"

#include <xxhash.h>

#include "core/check.h"

namespace satload {

Xxh3Checksum::Xxh3Checksum() : m_state(XXH3_createState()) {
    SATLOAD_ASSERT(m_state != nullptr);
    XXH3_128bits_reset(static_cast<XXH3_state_t*>(m_state));
}

Xxh3Checksum::~Xxh3Checksum() { XXH3_freeState(static_cast<XXH3_state_t*>(m_state)); }

void Xxh3Checksum::update(ByteSpan data) {
    XXH3_128bits_update(static_cast<XXH3_state_t*>(m_state), data.data(), data.size());
}

void Xxh3Checksum::assign(const Xxh3Checksum& other) {
    XXH3_copyState(static_cast<XXH3_state_t*>(m_state), static_cast<const XXH3_state_t*>(other.m_state));
}

std::string Xxh3Checksum::finish_hex() {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(static_cast<XXH3_state_t*>(m_state)));
    XXH3_128bits_reset(static_cast<XXH3_state_t*>(m_state));
    return hex_encode(ByteSpan(canonical.digest, sizeof canonical.digest));
}

}  // namespace satload
