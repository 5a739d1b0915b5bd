// LoginThrottle: exponential back-off per key, with an injected clock.
#include "accounts/login_throttle.h"

#include <algorithm>

#include "core/check.h"

namespace satload::accounts {

LoginThrottle::LoginThrottle(const Clock& clock, ThrottlePolicy policy)
    : m_clock(clock), m_policy(policy) {
    SATLOAD_ASSERT(m_policy.base_delay_s > 0 && m_policy.max_delay_s >= m_policy.base_delay_s);
    SATLOAD_ASSERT(m_policy.max_keys > 0);
}

std::int64_t throttle_delay_s(const ThrottlePolicy& policy, std::uint32_t failures) {
    if (failures <= policy.free_failures) return 0;
    const std::uint32_t doublings = failures - policy.free_failures - 1;
    std::int64_t delay = policy.base_delay_s;
    for (std::uint32_t i = 0; i < doublings && delay < policy.max_delay_s; ++i) delay *= 2;
    return std::min(delay, policy.max_delay_s);
}

store::StoreResult<std::int64_t> LoginThrottle::retry_after_s(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(std::string(key));
    if (it == m_entries.end()) return std::int64_t{0};
    if (now_s - it->second.last_failure_s >= m_policy.forget_after_s) {
        m_entries.erase(it);
        return std::int64_t{0};
    }
    const std::int64_t ready_s = it->second.last_failure_s + throttle_delay_s(m_policy, it->second.failures);
    return std::max<std::int64_t>(0, ready_s - now_s);
}

store::StoreResult<void> LoginThrottle::record_failure(std::string_view key) {
    const std::int64_t now_s = m_clock.now_s();
    const std::lock_guard lock(m_mutex);
    auto it = m_entries.find(std::string(key));
    if (it == m_entries.end()) {
        if (m_entries.size() >= m_policy.max_keys) evict_locked(now_s);
        it = m_entries.emplace(std::string(key), Entry{}).first;
    } else if (now_s - it->second.last_failure_s >= m_policy.forget_after_s) {
        it->second = Entry{};
    }
    if (it->second.failures < UINT32_MAX) ++it->second.failures;
    it->second.last_failure_s = now_s;
    return {};
}

store::StoreResult<void> LoginThrottle::record_success(std::string_view key) {
    const std::lock_guard lock(m_mutex);
    m_entries.erase(std::string(key));
    return {};
}

store::StoreResult<std::size_t> LoginThrottle::tracked_keys() {
    const std::lock_guard lock(m_mutex);
    return m_entries.size();
}

// Drops forgotten keys; if every key is still live, drops the one quiet
// longest, so a flood of new keys costs the oldest memory rather than growing
// without bound.
void LoginThrottle::evict_locked(std::int64_t now_s) {
    std::erase_if(m_entries, [&](const auto& kv) {
        return now_s - kv.second.last_failure_s >= m_policy.forget_after_s;
    });
    if (m_entries.size() < m_policy.max_keys) return;
    const auto oldest =
        std::min_element(m_entries.begin(), m_entries.end(), [](const auto& a, const auto& b) {
            return a.second.last_failure_s < b.second.last_failure_s;
        });
    m_entries.erase(oldest);
}

}  // namespace satload::accounts
