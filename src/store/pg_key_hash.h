// How shared counters in PostgreSQL (login throttles, rate limits) store the key they count
// (a client address, a user name): an HMAC-SHA256 under a random secret kept in the database,
// not a plain SHA-256. There are only 2^32 IPv4 addresses: a plain hash of one is reversed by
// hashing them all. Every instance on the database reads the same secret, so counts meet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/pg_db.h"

namespace satload::store {

// The component (and table) holding the secret.
inline constexpr std::string_view kPgKeyHashComponent = "key_hash";
inline constexpr std::size_t kKeyHashSecretBytes = 32;
// A counter's scope (its name in the shared tables): 1 to this many bytes of [a-z_].
inline constexpr std::size_t kKeyScopeBytesMax = 32;

[[nodiscard]] bool is_key_scope(std::string_view scope);

class PgKeyHasher {
public:
    // Reads the database's secret, creating it (once, however many instances start together)
    // when there is none yet.
    [[nodiscard]] static StoreResult<std::shared_ptr<const PgKeyHasher>> open(PgDb& db);
    ~PgKeyHasher();
    PgKeyHasher(const PgKeyHasher&) = delete;
    PgKeyHasher& operator=(const PgKeyHasher&) = delete;

    // Hex of HMAC-SHA256(secret, decimal length of scope || ":" || scope || key): the same key
    // in two scopes differs, and no (scope, key) pair reads as another.
    [[nodiscard]] std::string hash_hex(std::string_view scope, std::string_view key) const;

private:
    PgKeyHasher() = default;
    std::array<std::uint8_t, kKeyHashSecretBytes> m_secret{};
};

}  // namespace satload::store
