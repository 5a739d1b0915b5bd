// A fixed-window rate limit per key (a client address), in memory and bounded: the limit on
// anonymous upload creations. Counts are per process, so they start again after a restart and
// are not shared between the instances of a scale-out deployment.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

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
    std::size_t max_keys = kRateLimiterKeysMax;
};

class RateLimiter {
public:
    RateLimiter(const Clock& clock, RatePolicy policy);

    // Counts one event for `key` and returns 0, or, when the key's window is full, counts
    // nothing and returns the seconds until its window ends (at least 1).
    [[nodiscard]] std::int64_t acquire(std::string_view key);
    [[nodiscard]] std::size_t tracked_keys();

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

}  // namespace satload::files
