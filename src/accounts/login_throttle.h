// Login throttling: failures counted per key (a username or an address), with
// an exponential delay after a few free failures, forgotten after a quiet
// period. In memory and bounded.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace satload::accounts {

struct ThrottlePolicy {
    std::uint32_t free_failures = 5;        // failures allowed before any delay
    std::int64_t base_delay_s = 1;          // the delay after the first failure past the free ones
    std::int64_t max_delay_s = 15 * 60;     // the delay doubles per failure up to this
    std::int64_t forget_after_s = 60 * 60;  // a key quiet this long starts again from zero
    std::size_t max_keys = 100'000;         // memory bound; quiet keys are dropped first
};

class LoginThrottle {
public:
    LoginThrottle(const Clock& clock, ThrottlePolicy policy);

    // Seconds until `key` may try again; 0 means now.
    [[nodiscard]] std::int64_t retry_after_s(std::string_view key);
    void record_failure(std::string_view key);
    // Forgets the key's failures (a correct password for that username).
    void record_success(std::string_view key);
    [[nodiscard]] std::size_t tracked_keys();

private:
    struct Entry {
        std::uint32_t failures = 0;
        std::int64_t last_failure_s = 0;
    };
    [[nodiscard]] std::int64_t delay_s(std::uint32_t failures) const;
    void evict_locked(std::int64_t now_s);

    const Clock& m_clock;
    ThrottlePolicy m_policy;
    std::mutex m_mutex;
    std::unordered_map<std::string, Entry> m_entries;
};

}  // namespace satload::accounts
