// PgRateLimiter: one row per (scope, keyed hash of the key) holding the key's current window,
// moved by one upsert per event, so events counted on several instances at once all count.
// The window semantics are MemoryRateLimiter's, computed in the statement from the row.
#include "files/pg_rate_limiter.h"

#include <algorithm>

#include "core/check.h"
#include "core/encoding.h"
#include "crypto/primitives.h"

namespace satload::files {
namespace {

using store::StoreResult;

// Step N (0-based) takes the table from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: the current window per key and scope. `events` is the events admitted in the window,
    // plus one once the window has refused one (so an upsert tells from the row it returns
    // whether it was admitted). The index serves the pruning of ended windows.
    R"sql(
CREATE TABLE rate_limits (
    scope          TEXT COLLATE "C" NOT NULL,
    key_hash       BYTEA NOT NULL CHECK (length(key_hash) = 32),
    window_start_s BIGINT NOT NULL,
    events         BIGINT NOT NULL CHECK (events > 0 AND events <= 4294967296),
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX rate_limits_by_age ON rate_limits (scope, window_start_s);
)sql",
};

}  // namespace

StoreResult<void> migrate_rate_limits(store::PgDb& db) {
    if (auto r = db.migrate(kPgRateLimitComponent, kMigrations); !r) return fail(r.error());
    return {};
}

StoreResult<std::unique_ptr<PgRateLimiter>> PgRateLimiter::open(std::shared_ptr<store::PgDb> db, const Clock& clock,
                                                                std::string_view scope, RatePolicy policy) {
    SATLOAD_ASSERT(db != nullptr && store::is_key_scope(scope));
    SATLOAD_ASSERT(policy.events_per_window > 0 && policy.window_s > 0);
    if (auto r = migrate_rate_limits(*db); !r) return fail(r.error());
    auto hasher = store::PgKeyHasher::open(*db);
    if (!hasher) return fail(hasher.error());
    return std::unique_ptr<PgRateLimiter>(new PgRateLimiter(std::move(db), std::move(*hasher), clock, scope, policy));
}

StoreResult<std::int64_t> PgRateLimiter::acquire(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::string hash = m_hasher->hash_hex(m_scope, key);
    const auto limit = static_cast<std::int64_t>(m_policy.events_per_window);
    auto counted = m_db->transact("count a rate-limited event", [&](pqxx::work& w) {
        // One statement: concurrent events of one key on several instances serialize on its
        // row, so each counts. A window that has ended restarts at this event (the first
        // admitted); a full one only records that it refused (events stops at limit + 1).
        const pqxx::row row = w.exec_params1(
            "INSERT INTO rate_limits (scope, key_hash, window_start_s, events) "
            "VALUES ($1, decode($2, 'hex'), $3::bigint, 1) "
            "ON CONFLICT (scope, key_hash) DO UPDATE SET "
            "window_start_s = CASE WHEN $3::bigint - rate_limits.window_start_s >= $4::bigint THEN $3::bigint "
            "ELSE rate_limits.window_start_s END, "
            "events = CASE WHEN $3::bigint - rate_limits.window_start_s >= $4::bigint THEN 1 "
            "ELSE least(rate_limits.events + 1, $5::bigint + 1) END "
            "RETURNING window_start_s, events",
            m_scope, hash, now_s, m_policy.window_s, limit);
        const std::int64_t start_s = row[0].as<std::int64_t>();
        if (row[1].as<std::int64_t>() <= limit) return std::int64_t{0};
        // An instance whose clock is behind the one that opened the window is told at most a
        // whole window.
        return std::clamp<std::int64_t>(start_s + m_policy.window_s - now_s, 1, m_policy.window_s);
    });
    if (counted && m_events_counted.fetch_add(1) % kPgRateLimitPruneEvery == 0) prune(now_s);
    return counted;
}

void PgRateLimiter::prune(std::int64_t now_s) {
    // In a transaction of its own, after the count committed: were it in the count's, two
    // instances each holding a key's row while deleting the other's could deadlock. A failure
    // leaves the rows to the next pruning.
    (void)m_db->transact("prune ended rate-limit windows", [&](pqxx::work& w) {
        w.exec_params("DELETE FROM rate_limits WHERE scope = $1 AND window_start_s <= $2::bigint", m_scope,
                      now_s - m_policy.window_s);
    });
}

StoreResult<std::size_t> PgRateLimiter::tracked_keys() {
    return m_db->read("count rate-limited keys", [&](pqxx::nontransaction& n) {
        return static_cast<std::size_t>(
            n.exec_params1("SELECT count(*) FROM rate_limits WHERE scope = $1", m_scope)[0].as<std::int64_t>());
    });
}

}  // namespace satload::files
