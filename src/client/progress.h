// A progress line on stderr for long transfers (bytes, percentage, rate, ETA), redrawn a few
// times a second by its own thread; silent unless enabled (the CLI enables it on a terminal).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace satload::client {

inline constexpr std::chrono::milliseconds kProgressIntervalMs{250};
// A transfer's worker waiting before a retry looks at the transfer's abort flag this often.
inline constexpr std::chrono::milliseconds kAbortPollMs{50};

class Progress {
public:
    // `done_bytes` were transferred by an earlier run (a resume) and do not count in the rate.
    Progress(std::string label, std::uint64_t total_bytes, std::uint64_t done_bytes, bool enabled);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void add(std::uint64_t bytes) { m_done.fetch_add(bytes, std::memory_order_relaxed); }
    // Takes back bytes counted for a chunk that has to be sent again.
    void remove(std::uint64_t bytes) { m_done.fetch_sub(bytes, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t done_bytes() const { return m_done.load(); }
    // Stops redrawing and ends the line.
    void finish();

private:
    void run();
    void draw(bool final_line);

    std::string m_label;
    std::uint64_t m_total;
    std::uint64_t m_start_done;
    std::atomic<std::uint64_t> m_done;
    bool m_enabled;
    std::chrono::steady_clock::time_point m_start;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

[[nodiscard]] std::string format_bytes(std::uint64_t bytes);  // "1.5 MiB"
[[nodiscard]] std::string format_duration(std::uint64_t seconds);  // "1:02:03" or "2:03"
[[nodiscard]] bool stderr_is_terminal();

}  // namespace satload::client
