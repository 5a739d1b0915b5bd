// Login throttling: failures counted per key (a username or an address), with
// an exponential delay after a few free failures, forgotten after a quiet
// period. Throttle is what AccountService asks; LoginThrottle counts in this
// process's memory (bounded), PgLoginThrottle (pg_login_throttle.h) in
// PostgreSQL, shared by every server on the database.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "store/blob_store.h"

namespace satload::accounts {

struct ThrottlePolicy {
    std::uint32_t free_failures = 5;        // failures allowed before any delay
    std::int64_t base_delay_s = 1;          // the delay after the first failure past the free ones
    std::int64_t max_delay_s = 15 * 60;     // the delay doubles per failure up to this
    std::int64_t forget_after_s = 60 * 60;  // a key quiet this long starts again from zero
    std::size_t max_keys = 100'000;         // memory bound; quiet keys are dropped first
};

// The wait after `failures` failures under `policy`: 0 for the free ones, then base_delay_s
// doubling per failure up to max_delay_s. Every Throttle uses this.
[[nodiscard]] std::int64_t throttle_delay_s(const ThrottlePolicy& policy, std::uint32_t failures);

// Failures counted per key under one ThrottlePolicy. Only a shared store can fail (a store
// failure, which the caller reports like any other).
class Throttle {
public:
    virtual ~Throttle() = default;
    // Seconds until `key` may try again; 0 means now.
    [[nodiscard]] virtual store::StoreResult<std::int64_t> retry_after_s(std::string_view key) = 0;
    virtual store::StoreResult<void> record_failure(std::string_view key) = 0;
    // Forgets the key's failures (a correct password for that username).
    virtual store::StoreResult<void> record_success(std::string_view key) = 0;
    // Keys with failures held now (forgotten ones may still count until pruned).
    [[nodiscard]] virtual store::StoreResult<std::size_t> tracked_keys() = 0;
};

// In this process's memory: right for one server per data directory (SQLite).
class LoginThrottle final : public Throttle {
public:
    LoginThrottle(const Clock& clock, ThrottlePolicy policy);

    store::StoreResult<std::int64_t> retry_after_s(std::string_view key) override;
    store::StoreResult<void> record_failure(std::string_view key) override;
    store::StoreResult<void> record_success(std::string_view key) override;
    store::StoreResult<std::size_t> tracked_keys() override;

private:
    struct Entry {
        std::uint32_t failures = 0;
        std::int64_t last_failure_s = 0;
    };
    void evict_locked(std::int64_t now_s);

    const Clock& m_clock;
    ThrottlePolicy m_policy;
    std::mutex m_mutex;
    std::unordered_map<std::string, Entry> m_entries;
};

}  // namespace satload::accounts
