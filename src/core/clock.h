// The injected clock: services ask it for the time so tests can move time by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace satload {

class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual std::int64_t now_s() const = 0;  // Unix seconds
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] std::int64_t now_s() const override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// A clock that only moves when told to (tests).
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_s) : m_now_s(start_s) {}
    [[nodiscard]] std::int64_t now_s() const override { return m_now_s.load(); }
    void advance(std::int64_t seconds) { m_now_s += seconds; }

private:
    std::atomic<std::int64_t> m_now_s;
};

}  // namespace satload
