// Login throttling shared by every server on one PostgreSQL database (serve --db
// postgresql://…): the failures of a key are counted in the login_throttle table (component
// "login_throttle"), so two instances give an attacker no more tries than one and a restart
// forgets nothing. The key is stored as its HMAC under the database's secret (store/pg_key_hash.h), never
// the username or address itself.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "accounts/account_service.h"
#include "accounts/login_throttle.h"
#include "store/pg_db.h"
#include "store/pg_key_hash.h"

namespace satload::accounts {

inline constexpr std::string_view kPgThrottleComponent = "login_throttle";
// The scopes AccountService counts in: one table holds both, each under its own policy.
inline constexpr std::string_view kUsernameThrottleScope = "username";
inline constexpr std::string_view kAddressThrottleScope = "address";
// Every this many failures recorded by one instance, the scope's quiet rows (older than
// forget_after_s) are deleted in the same transaction: the table holds about the keys that
// failed within the last forget_after_s, as LoginThrottle's map does.
inline constexpr std::uint64_t kPgThrottlePruneEvery = 64;

class PgLoginThrottle final : public Throttle {
public:
    // Brings the table to this program's version (once, however many start together).
    // `scope` is a store::is_key_scope.
    static store::StoreResult<std::unique_ptr<PgLoginThrottle>> open(std::shared_ptr<store::PgDb> db,
                                                                     const Clock& clock, std::string_view scope,
                                                                     ThrottlePolicy policy);

    store::StoreResult<std::int64_t> retry_after_s(std::string_view key) override;
    store::StoreResult<void> record_failure(std::string_view key) override;
    store::StoreResult<void> record_success(std::string_view key) override;
    store::StoreResult<std::size_t> tracked_keys() override;

private:
    PgLoginThrottle(std::shared_ptr<store::PgDb> db, std::shared_ptr<const store::PgKeyHasher> hasher,
                    const Clock& clock, std::string_view scope, ThrottlePolicy policy)
        : m_db(std::move(db)), m_hasher(std::move(hasher)), m_clock(clock), m_scope(scope), m_policy(policy) {}

    std::shared_ptr<store::PgDb> m_db;
    std::shared_ptr<const store::PgKeyHasher> m_hasher;  // keys are stored as its HMAC
    const Clock& m_clock;
    std::string m_scope;
    ThrottlePolicy m_policy;
    std::atomic<std::uint64_t> m_failures_recorded{0};
};

// Points `options`' shared throttles at `db` under its username and address policies: what a
// server on PostgreSQL does before it builds its AccountService.
store::StoreResult<void> share_login_throttles(std::shared_ptr<store::PgDb> db, const Clock& clock,
                                               AccountServiceOptions& options);

}  // namespace satload::accounts
