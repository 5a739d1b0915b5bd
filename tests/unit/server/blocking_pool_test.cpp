// The blocking pool: work runs on the pool's threads and its result comes back to the awaiting
// coroutine; those threads run at kBlockingNice, below the event loops, so a crowd of them
// cannot starve the loops.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <set>
#include <thread>

#include "server/blocking.h"

namespace satload::server {
namespace {

TEST(BlockingPool, RunsOffTheLoopAtItsNicenessAndReturnsTheResult) {
    errno = 0;
    const int own_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    BlockingPool pool(4);
    boost::asio::io_context io;
    const auto loop_thread = std::this_thread::get_id();
    std::set<int> nices;
    bool off_loop = true;
    int sum = 0;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            for (int i = 0; i < 8; ++i) {
                sum += co_await pool.run([&, i] {
                    errno = 0;
                    nices.insert(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())));
                    if (std::this_thread::get_id() == loop_thread) off_loop = false;
                    return i;
                });
            }
        },
        boost::asio::detached);
    io.run();
    EXPECT_EQ(sum, 28);
    EXPECT_TRUE(off_loop);
    // Each pool thread at kBlockingNice (or lower still, if the whole process already was).
    ASSERT_EQ(nices.size(), 1u);
    EXPECT_GE(*nices.begin(), kBlockingNice);
    EXPECT_GT(*nices.begin(), own_nice);
    // The caller's own thread keeps its priority.
    EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), own_nice);
}

}  // namespace
}  // namespace satload::server
