// The keyed hash of shared counters' keys, its secret kept once per database.
#include "store/pg_key_hash.h"

#include <algorithm>

#include "core/encoding.h"
#include "crypto/primitives.h"

namespace satload::store {
namespace {

// Step N (0-based) takes the table from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: the secret, one row (id 1).
    R"sql(
CREATE TABLE key_hash_secret (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    secret     BYTEA NOT NULL CHECK (length(secret) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
)sql",
};
static_assert(kKeyHashSecretBytes == 32, "the key_hash_secret CHECK names the secret's size");

}  // namespace

bool is_key_scope(std::string_view scope) {
    return !scope.empty() && scope.size() <= kKeyScopeBytesMax &&
           std::all_of(scope.begin(), scope.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

StoreResult<std::shared_ptr<const PgKeyHasher>> PgKeyHasher::open(PgDb& db) {
    if (auto r = db.migrate(kPgKeyHashComponent, kMigrations); !r) return fail(r.error());
    std::array<std::uint8_t, kKeyHashSecretBytes> offered{};
    crypto::random_bytes(offered);
    std::string offered_hex = hex_encode(offered);
    crypto::secure_wipe(offered.data(), offered.size());
    auto stored = db.transact("store the key hash secret", [&](pqxx::work& w) -> StoreResult<std::string> {
        w.exec_params("INSERT INTO key_hash_secret (id, secret) VALUES (1, decode($1, 'hex')) "
                      "ON CONFLICT (id) DO NOTHING",
                      offered_hex);
        // A racing insert that committed first is visible to this new statement (READ COMMITTED).
        return std::string(w.exec1("SELECT encode(secret, 'hex') FROM key_hash_secret WHERE id = 1")[0].c_str());
    });
    crypto::secure_wipe(offered_hex.data(), offered_hex.size());
    if (!stored) return fail(stored.error());
    auto bytes = hex_decode(*stored);
    crypto::secure_wipe(stored->data(), stored->size());
    if (!bytes || bytes->size() != kKeyHashSecretBytes) {
        return fail(StoreFailure{StoreError::io, "the key hash secret does not decode"});
    }
    std::shared_ptr<PgKeyHasher> hasher(new PgKeyHasher());
    std::copy(bytes->begin(), bytes->end(), hasher->m_secret.begin());
    crypto::secure_wipe(bytes->data(), bytes->size());
    return std::shared_ptr<const PgKeyHasher>(std::move(hasher));
}

PgKeyHasher::~PgKeyHasher() { crypto::secure_wipe(m_secret.data(), m_secret.size()); }

std::string PgKeyHasher::hash_hex(std::string_view scope, std::string_view key) const {
    // The scope's length first, so no (scope, key) pair reads as another.
    std::string message = std::to_string(scope.size());
    message.push_back(':');
    message.append(scope);
    message.append(key);
    return hex_encode(crypto::hmac_sha256(m_secret, as_bytes(message)));
}

}  // namespace satload::store
