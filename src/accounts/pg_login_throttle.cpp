// PgLoginThrottle: one row per (scope, keyed hash of the key), updated by one upsert per failure,
// so failures recorded on several instances at once all count. The delay is computed here
// from the row, with the policy LoginThrottle uses.
#include "accounts/pg_login_throttle.h"

#include <algorithm>
#include <limits>

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::accounts {
namespace {

using store::StoreResult;

// Step N (0-based) takes the table from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: failures per key and scope; the index serves the pruning of quiet rows.
    R"sql(
CREATE TABLE login_throttle (
    scope          TEXT COLLATE "C" NOT NULL,
    key_hash       BYTEA NOT NULL CHECK (length(key_hash) = 32),
    failures       BIGINT NOT NULL CHECK (failures > 0 AND failures <= 4294967295),
    last_failure_s BIGINT NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX login_throttle_by_age ON login_throttle (scope, last_failure_s);
)sql",
};

}  // namespace

StoreResult<std::unique_ptr<PgLoginThrottle>> PgLoginThrottle::open(std::shared_ptr<store::PgDb> db,
                                                                    const Clock& clock, std::string_view scope,
                                                                    ThrottlePolicy policy) {
    SATLOAD_ASSERT(db != nullptr && store::is_key_scope(scope));
    SATLOAD_ASSERT(policy.base_delay_s > 0 && policy.max_delay_s >= policy.base_delay_s);
    SATLOAD_ASSERT(policy.forget_after_s > 0);
    if (auto r = db->migrate(kPgThrottleComponent, kMigrations); !r) return fail(r.error());
    auto hasher = store::PgKeyHasher::open(*db);
    if (!hasher) return fail(hasher.error());
    return std::unique_ptr<PgLoginThrottle>(new PgLoginThrottle(std::move(db), std::move(*hasher), clock, scope, policy));
}

StoreResult<std::int64_t> PgLoginThrottle::retry_after_s(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::string hash = m_hasher->hash_hex(m_scope, key);
    return m_db->read("read login failures", [&](pqxx::nontransaction& n) -> std::int64_t {
        const auto rows = n.exec_params(
            "SELECT failures, last_failure_s FROM login_throttle WHERE scope = $1 AND key_hash = decode($2, 'hex')",
            m_scope, hash);
        if (rows.empty()) return 0;
        const auto failures = static_cast<std::uint32_t>(
            std::min<std::int64_t>(rows[0][0].as<std::int64_t>(), std::numeric_limits<std::uint32_t>::max()));
        const std::int64_t last_s = rows[0][1].as<std::int64_t>();
        // A quiet key starts from zero (its row goes with the next pruning).
        if (now_s - last_s >= m_policy.forget_after_s) return 0;
        return std::max<std::int64_t>(0, last_s + throttle_delay_s(m_policy, failures) - now_s);
    });
}

StoreResult<void> PgLoginThrottle::record_failure(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::string hash = m_hasher->hash_hex(m_scope, key);
    const bool prune = m_failures_recorded.fetch_add(1) % kPgThrottlePruneEvery == 0;
    auto counted = m_db->transact("record a login failure", [&](pqxx::work& w) {
        // One statement: concurrent failures of one key on several instances serialize on its
        // row, so each counts. A quiet key restarts from one; a clock behind another
        // instance's never moves the last failure back.
        w.exec_params(
            "INSERT INTO login_throttle (scope, key_hash, failures, last_failure_s) "
            "VALUES ($1, decode($2, 'hex'), 1, $3) "
            "ON CONFLICT (scope, key_hash) DO UPDATE SET "
            "failures = CASE WHEN $3 - login_throttle.last_failure_s >= $4 THEN 1 "
            "ELSE least(login_throttle.failures + 1, 4294967295) END, "
            "last_failure_s = greatest(login_throttle.last_failure_s, $3)",
            m_scope, hash, now_s, m_policy.forget_after_s);
    });
    if (counted && prune) {
        // In a transaction of its own, after the count committed: were it in the count's, two
        // instances each holding a key's row while deleting the other's could deadlock. A
        // failure leaves the rows to the next pruning.
        (void)m_db->transact("prune quiet login failures", [&](pqxx::work& w) {
            w.exec_params("DELETE FROM login_throttle WHERE scope = $1 AND last_failure_s <= $2", m_scope,
                          now_s - m_policy.forget_after_s);
        });
    }
    return counted;
}

StoreResult<void> PgLoginThrottle::record_success(std::string_view key) {
    const std::string hash = m_hasher->hash_hex(m_scope, key);
    return m_db->transact("forget login failures", [&](pqxx::work& w) {
        w.exec_params("DELETE FROM login_throttle WHERE scope = $1 AND key_hash = decode($2, 'hex')", m_scope, hash);
    });
}

StoreResult<std::size_t> PgLoginThrottle::tracked_keys() {
    return m_db->read("count login failures", [&](pqxx::nontransaction& n) {
        return static_cast<std::size_t>(
            n.exec_params1("SELECT count(*) FROM login_throttle WHERE scope = $1", m_scope)[0].as<std::int64_t>());
    });
}

StoreResult<void> share_login_throttles(std::shared_ptr<store::PgDb> db, const Clock& clock,
                                       AccountServiceOptions& options) {
    auto by_username = PgLoginThrottle::open(db, clock, kUsernameThrottleScope, options.username_throttle);
    if (!by_username) return fail(by_username.error());
    auto by_address = PgLoginThrottle::open(std::move(db), clock, kAddressThrottleScope, options.address_throttle);
    if (!by_address) return fail(by_address.error());
    options.shared_username_throttle = std::move(*by_username);
    options.shared_address_throttle = std::move(*by_address);
    return {};
}

}  // namespace satload::accounts
