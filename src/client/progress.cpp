// Progress line rendering.
#include "client/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace satload::client {

Progress::Progress(std::string label, std::uint64_t total_bytes, std::uint64_t done_bytes,
                   bool enabled)
    : m_label(std::move(label)),
      m_total(total_bytes),
      m_start_done(done_bytes),
      m_done(done_bytes),
      m_enabled(enabled),
      m_start(std::chrono::steady_clock::now()) {
    if (m_enabled) m_thread = std::thread([this] { run(); });
}

Progress::~Progress() { finish(); }

void Progress::finish() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stop) return;
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
    if (m_enabled) draw(true);
}

void Progress::run() {
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_wake.wait_for(lock, kProgressIntervalMs, [this] { return m_stop; });
        if (!m_stop) draw(false);
    }
}

void Progress::draw(bool final_line) {
    const std::uint64_t done = m_done.load();
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const double moved = static_cast<double>(done > m_start_done ? done - m_start_done : 0);
    const double rate = elapsed_s > 0.0 ? moved / elapsed_s : 0.0;
    std::string line = fmt::format("{} {} / {}", m_label, format_bytes(done), format_bytes(m_total));
    if (m_total > 0) {
        line += fmt::format(" {:3.0f}%", 100.0 * static_cast<double>(done) / static_cast<double>(m_total));
    }
    line += fmt::format("  {}/s", format_bytes(static_cast<std::uint64_t>(rate)));
    if (!final_line && rate > 0.0 && done < m_total) {
        line += "  ETA " + format_duration(static_cast<std::uint64_t>(
                               static_cast<double>(m_total - done) / rate));
    } else if (final_line) {
        line += "  in " + format_duration(static_cast<std::uint64_t>(elapsed_s));
    }
    std::fprintf(stderr, "\r%s\x1b[K%s", line.c_str(), final_line ? "\n" : "");
    std::fflush(stderr);
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_duration(std::uint64_t seconds) {
    const std::uint64_t h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace satload::client
