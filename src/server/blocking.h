// Work that blocks — a durable commit, a run of SQLite statements — runs on a pool of its
// own, so the few I/O threads keep serving other connections while it waits, and many such
// calls can wait at once (and share group commits). The handler resumes on its own executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace satload::server {

// Threads that may wait on blocking work at once: enough for many payments to share one
// ledger commit, few enough to cost little (their stacks are mostly untouched).
inline constexpr std::size_t kBlockingThreads = 32;
// Threads for upload commits and upload records (App::m_upload_blocking): more commits than
// this wait their turn rather than take the disk and both cores from everything else.
inline constexpr std::size_t kUploadBlockingThreads = 8;
// The pool's threads run at this niceness (the event loops at 0): when many of them are
// runnable at once they must not starve the loops, which serve every other request. Measured
// on one core under a paid-download load: without it a 1 KiB GET waited ~9 ms for its loop.
inline constexpr int kBlockingNice = 10;

class BlockingPool {
public:
    explicit BlockingPool(std::size_t threads = kBlockingThreads) : m_pool(threads) {}
    ~BlockingPool() { m_pool.join(); }
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    // Runs fn() on the pool; its result (or exception) comes back to the awaiting coroutine.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> run(F fn) {
        using R = std::invoke_result_t<F&>;
        std::optional<R> out;
        co_await boost::asio::co_spawn(
            m_pool,
            [&fn, &out]() -> boost::asio::awaitable<void> {
                lower_priority_once();
                out.emplace(fn());
                co_return;
            },
            boost::asio::use_awaitable);
        co_return std::move(*out);
    }

private:
    // Each pool thread lowers its own priority before its first work (lowering needs no
    // privilege; a failure only leaves it where it was).
    static void lower_priority_once() {
        thread_local bool lowered = false;
        if (lowered) return;
        lowered = true;
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBlockingNice);
    }

    boost::asio::thread_pool m_pool;
};

}  // namespace satload::server
