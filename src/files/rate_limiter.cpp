// Fixed windows per key: a window opens with a key's first event and lasts window_s. The
// in-memory count, and the service's choice between it and a shared one.
#include "files/rate_limiter.h"

#include <algorithm>

#include "core/check.h"

namespace satload::files {

MemoryRateLimiter::MemoryRateLimiter(const Clock& clock, RatePolicy policy) : m_clock(clock), m_policy(policy) {
    SATLOAD_ASSERT(m_policy.events_per_window > 0 && m_policy.window_s > 0 && m_policy.max_keys > 0);
}

store::StoreResult<std::int64_t> MemoryRateLimiter::acquire(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::lock_guard lock(m_mutex);
    auto it = m_windows.find(std::string(key));
    if (it == m_windows.end()) {
        if (m_windows.size() >= m_policy.max_keys) evict_locked(now_s);
        it = m_windows.emplace(std::string(key), Window{now_s, 0}).first;
    }
    Window& w = it->second;
    if (now_s - w.start_s >= m_policy.window_s) w = Window{now_s, 0};
    if (w.events >= m_policy.events_per_window) {
        return std::max<std::int64_t>(1, w.start_s + m_policy.window_s - now_s);
    }
    ++w.events;
    return std::int64_t{0};
}

store::StoreResult<std::size_t> MemoryRateLimiter::tracked_keys() {
    const std::lock_guard lock(m_mutex);
    return m_windows.size();
}

void MemoryRateLimiter::evict_locked(std::int64_t now_s) {
    std::erase_if(m_windows, [&](const auto& entry) {
        return now_s - entry.second.start_s >= m_policy.window_s;
    });
    if (m_windows.size() < m_policy.max_keys) return;
    // Every window is still open: the oldest goes (its key starts again from zero).
    const auto oldest = std::min_element(m_windows.begin(), m_windows.end(), [](const auto& a, const auto& b) {
        return a.second.start_s < b.second.start_s;
    });
    m_windows.erase(oldest);
}

ServiceRateLimit::ServiceRateLimit(const Clock& clock, RatePolicy policy, std::shared_ptr<RateLimiter> shared)
    : m_shared(std::move(shared)), m_local(clock, policy) {}

std::int64_t ServiceRateLimit::acquire(std::string_view key) {
    if (m_shared) {
        auto counted = m_shared->acquire(key);
        if (counted) return *counted;
        // See the class comment: a store failure falls back to this process's own count.
        m_store_failures.fetch_add(1);
    }
    auto local = m_local.acquire(key);
    SATLOAD_ASSERT(local.has_value());  // memory never fails
    return *local;
}

}  // namespace satload::files
