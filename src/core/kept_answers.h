// KeptAnswers: a store's answers kept in memory by the one process that writes the store, each
// dropped by the write that changes it, and never kept when such a write raced the read.
//
// The pattern of every use: find(); on a miss, read the store, then keep() the answer with the
// generation find() returned. Each write that can change an answer calls forget() (or
// forget_if()) after the store has it: that bumps the generation, so an answer read before the
// write and kept after it is refused, and drops what was kept. Bounded: beyond max_entries the
// kept answers start again from empty (a burst of distinct keys costs reads, not memory).
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/check.h"

namespace satload {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class KeptAnswers {
public:
    explicit KeptAnswers(std::size_t max_entries) : m_max_entries(max_entries) {
        SATLOAD_ASSERT(max_entries > 0);
    }

    struct Lookup {
        std::optional<Value> value;    // the kept answer, if any
        std::uint64_t generation = 0;  // on a miss: to pass to keep() after reading the store
    };

    [[nodiscard]] Lookup find(const Key& key) const {
        const std::lock_guard lock(m_mutex);
        if (const auto it = m_answers.find(key); it != m_answers.end())
            return Lookup{it->second, m_generation};
        return Lookup{std::nullopt, m_generation};
    }

    // Keeps what the store answered after find() returned `generation`, unless a write came
    // since.
    void keep(const Key& key, Value value, std::uint64_t generation) {
        const std::lock_guard lock(m_mutex);
        if (generation != m_generation) return;
        if (m_answers.size() >= m_max_entries) m_answers.clear();
        m_answers.insert_or_assign(key, std::move(value));
    }

    // After a write that may change the key's answer.
    void forget(const Key& key) {
        const std::lock_guard lock(m_mutex);
        ++m_generation;
        m_answers.erase(key);
    }

    // After a write that may change the answers `drop(key, value)` picks.
    template <typename Drop>
    void forget_if(Drop drop) {
        const std::lock_guard lock(m_mutex);
        ++m_generation;
        std::erase_if(m_answers,
                      [&](const auto& entry) { return drop(entry.first, entry.second); });
    }

    [[nodiscard]] std::size_t size() const {
        const std::lock_guard lock(m_mutex);
        return m_answers.size();
    }

private:
    const std::size_t m_max_entries;
    mutable std::mutex m_mutex;
    std::uint64_t m_generation = 0;  // guarded by m_mutex
    std::unordered_map<Key, Value, Hash> m_answers;
};

}  // namespace satload
