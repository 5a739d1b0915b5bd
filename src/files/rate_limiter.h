// Fixed-window rate limits per key (a client address): anonymous upload creations and abuse
// reports. RateLimiter is what counts; MemoryRateLimiter counts in this process's memory
// (bounded), PgRateLimiter (pg_rate_limiter.h) in PostgreSQL, shared by every server on the
// database; ServiceRateLimit is what a service asks, and decides what a store failure means.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "store/blob_store.h"

namespace satload::files {

// Anonymous upload creations (parts of a parallel upload count each) per address per window:
// a parallel `satload put` creates up to parts + 1 uploads.
inline constexpr std::uint32_t kAnonymousCreationsPerWindow = 120;
inline constexpr std::int64_t kAnonymousCreationWindowS = 10 * 60;
// Addresses remembered at once; past it, finished windows and then the oldest are dropped.
inline constexpr std::size_t kRateLimiterKeysMax = 100'000;

struct RatePolicy {
    std::uint32_t events_per_window = kAnonymousCreationsPerWindow;
    std::int64_t window_s = kAnonymousCreationWindowS;
    std::size_t max_keys = kRateLimiterKeysMax;  // MemoryRateLimiter's bound
};

// Events counted per key in fixed windows: a window opens with a key's first event after the
// previous one ended and lasts window_s; it admits events_per_window events. Only a shared
// store can fail.
class RateLimiter {
public:
    virtual ~RateLimiter() = default;
    // Counts one event for `key` and returns 0, or, when the key's window is full, counts
    // nothing and returns the seconds until its window ends (at least 1).
    [[nodiscard]] virtual store::StoreResult<std::int64_t> acquire(std::string_view key) = 0;
    // Keys with a window held now (ended ones may still count until dropped or pruned).
    [[nodiscard]] virtual store::StoreResult<std::size_t> tracked_keys() = 0;
};

// In this process's memory: right for one server per data directory (SQLite). Counts start
// again after a restart.
class MemoryRateLimiter final : public RateLimiter {
public:
    MemoryRateLimiter(const Clock& clock, RatePolicy policy);

    store::StoreResult<std::int64_t> acquire(std::string_view key) override;
    store::StoreResult<std::size_t> tracked_keys() override;

private:
    struct Window {
        std::int64_t start_s = 0;
        std::uint32_t events = 0;
    };
    void evict_locked(std::int64_t now_s);

    const Clock& m_clock;
    RatePolicy m_policy;
    std::mutex m_mutex;
    std::unordered_map<std::string, Window> m_windows;
};

// The limit a service applies: counted by `shared` (every instance on the deployment's
// database) when there is one, in this process's memory otherwise.
//
// When the shared store fails, this process's own count decides (a MemoryRateLimiter under
// the same policy, from zero at the first failure). Deliberately neither closed nor open:
// failing closed would turn any hiccup of the limiter's table into refusing every anonymous
// upload and report, which nobody expects of a limit; failing open would lift the limit just
// when the database is overloaded, perhaps by the very flood the limit is there to stop. The
// local count keeps the limit there was before it was shared: at most N times the limit
// across N instances while the store is down.
class ServiceRateLimit {
public:
    ServiceRateLimit(const Clock& clock, RatePolicy policy, std::shared_ptr<RateLimiter> shared = nullptr);

    // As RateLimiter::acquire; never fails.
    [[nodiscard]] std::int64_t acquire(std::string_view key);
    [[nodiscard]] bool shared() const { return m_shared != nullptr; }
    // Events decided by the local count because the shared store failed.
    [[nodiscard]] std::uint64_t store_failures() const { return m_store_failures.load(); }

private:
    std::shared_ptr<RateLimiter> m_shared;
    MemoryRateLimiter m_local;
    std::atomic<std::uint64_t> m_store_failures{0};
};

}  // namespace satload::files
