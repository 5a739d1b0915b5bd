// Work that blocks — a durable commit, a run of SQLite statements — runs on a pool of its
// own, so the few I/O threads keep serving other connections while it waits, and many such
// calls can wait at once (and share group commits). The handler resumes on its own executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace satload::server {

// Threads that may wait on blocking work at once: enough for many payments to share one
// ledger commit, few enough to cost little (their stacks are mostly untouched).
inline constexpr std::size_t kBlockingThreads = 32;

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
                out.emplace(fn());
                co_return;
            },
            boost::asio::use_awaitable);
        co_return std::move(*out);
    }

private:
    boost::asio::thread_pool m_pool;
};

}  // namespace satload::server
