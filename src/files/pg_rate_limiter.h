// Rate limits shared by every server on one PostgreSQL database (serve --db postgresql://…):
// the windows of a key are counted in the rate_limits table (component "rate_limits"), so N
// instances admit no more than one and a restart forgets nothing. The key (a client address)
// is stored as its HMAC under the database's secret (store/pg_key_hash.h), never itself.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "files/rate_limiter.h"
#include "store/pg_db.h"
#include "store/pg_key_hash.h"

namespace satload::files {

inline constexpr std::string_view kPgRateLimitComponent = "rate_limits";
// The scope of anonymous upload creations (UploadLimits::anonymous_rate).
inline constexpr std::string_view kAnonymousCreationRateScope = "anonymous_upload";
// Every this many events counted by one instance (the first included), the scope's rows whose
// window has ended are deleted, so the table holds about the keys active within the last
// window, as MemoryRateLimiter's map does.
inline constexpr std::uint64_t kPgRateLimitPruneEvery = 64;

class PgRateLimiter final : public RateLimiter {
public:
    // Brings the table to this program's version (once, however many start together).
    // `scope` is a store::is_key_scope; policy.max_keys is unused
    // (pruning bounds the table).
    static store::StoreResult<std::unique_ptr<PgRateLimiter>> open(std::shared_ptr<store::PgDb> db,
                                                                   const Clock& clock, std::string_view scope,
                                                                   RatePolicy policy);

    store::StoreResult<std::int64_t> acquire(std::string_view key) override;
    store::StoreResult<std::size_t> tracked_keys() override;

private:
    PgRateLimiter(std::shared_ptr<store::PgDb> db, std::shared_ptr<const store::PgKeyHasher> hasher,
                  const Clock& clock, std::string_view scope, RatePolicy policy)
        : m_db(std::move(db)), m_hasher(std::move(hasher)), m_clock(clock), m_scope(scope), m_policy(policy) {}
    void prune(std::int64_t now_s);

    std::shared_ptr<store::PgDb> m_db;
    std::shared_ptr<const store::PgKeyHasher> m_hasher;  // keys are stored as its HMAC
    const Clock& m_clock;
    std::string m_scope;
    RatePolicy m_policy;
    std::atomic<std::uint64_t> m_events_counted{0};
};

// Brings the rate_limits table to this program's version (`satload admin migrate`).
store::StoreResult<void> migrate_rate_limits(store::PgDb& db);

}  // namespace satload::files
