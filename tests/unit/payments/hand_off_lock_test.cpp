// The payments' hand-off locks: held on one thread, released on another; the shared one lets
// readers in together, a writer alone, and a waiting writer ahead of new readers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "payments/hand_off_lock.h"

namespace satload::payments {
namespace {

TEST(HandOffMutex, ReleasedByAnotherThread) {
    HandOffMutex m;
    m.lock();
    EXPECT_FALSE(m.try_lock());
    std::thread([&] { m.unlock(); }).join();
    EXPECT_TRUE(m.try_lock());
    m.unlock();
}

TEST(HandOffSharedMutex, ReadersShareAndAreReleasedByAnotherThread) {
    HandOffSharedMutex m;
    ASSERT_TRUE(m.try_lock_shared());
    ASSERT_TRUE(m.try_lock_shared());
    std::thread([&] {
        m.unlock_shared();
        m.unlock_shared();
    }).join();
    // No reader left: a writer gets in at once.
    auto writer = std::async(std::launch::async, [&] { const std::unique_lock lock(m); });
    ASSERT_EQ(writer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

// A writer waits for the readers in; while it waits, and while it holds the lock, no new reader
// gets in; once it is done, readers do.
TEST(HandOffSharedMutex, AWaitingWriterGoesBeforeNewReaders) {
    HandOffSharedMutex m;
    m.lock_shared();
    std::atomic<bool> writing{false};
    std::promise<void> release;
    auto writer = std::async(std::launch::async, [&] {
        const std::unique_lock lock(m);
        writing = true;
        release.get_future().wait();
        writing = false;
    });
    // Until the writer is waiting, try_lock_shared may still get in; wait for the refusal.
    while (m.try_lock_shared()) {
        m.unlock_shared();
        std::this_thread::yield();
    }
    EXPECT_FALSE(writing);
    m.unlock_shared();  // from this thread; the writer gets in
    while (!writing) std::this_thread::yield();
    EXPECT_FALSE(m.try_lock_shared());
    auto reader = std::async(std::launch::async, [&] {
        const std::shared_lock lock(m);
        return writing.load();
    });
    EXPECT_EQ(reader.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    release.set_value();
    ASSERT_EQ(reader.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_FALSE(reader.get());  // it got in only after the writer left
    writer.get();
    EXPECT_TRUE(m.try_lock_shared());
    m.unlock_shared();
}

}  // namespace
}  // namespace satload::payments
