// Locks whose holds may be released by another thread than the one that took them. A payment
// begun on an event loop (Paywall::begin_inline) keeps its locks while the ledger commits its
// group and releases them in finish_inline, on whichever thread the ledger's answer reaches:
// std::mutex and std::shared_mutex must be unlocked by their owner, semaphores need not be.
// Written here because the standard has no shared (readers-writer) semaphore.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <semaphore>

namespace satload::payments {

// A mutex as a binary semaphore (Lockable, so std::lock_guard works with it).
class HandOffMutex {
public:
    void lock() { m_free.acquire(); }
    [[nodiscard]] bool try_lock() { return m_free.try_acquire(); }
    void unlock() { m_free.release(); }

private:
    std::binary_semaphore m_free{1};
};

// Readers-writer: shared holds for payments, exclusive for hold settlements. A waiting writer
// goes first: readers arriving after it wait (try_lock_shared fails), so a steady stream of
// payments cannot starve a settlement. SharedLockable, so std::shared_lock works with it.
class HandOffSharedMutex {
public:
    void lock() {
        std::unique_lock lock(m_mutex);
        ++m_writers_waiting;
        m_cv.wait(lock, [&] { return !m_writer && m_readers == 0; });
        --m_writers_waiting;
        m_writer = true;
    }
    void unlock() {
        {
            const std::lock_guard lock(m_mutex);
            m_writer = false;
        }
        m_cv.notify_all();
    }
    void lock_shared() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_writer && m_writers_waiting == 0; });
        ++m_readers;
    }
    [[nodiscard]] bool try_lock_shared() {
        const std::lock_guard lock(m_mutex);
        if (m_writer || m_writers_waiting > 0) return false;
        ++m_readers;
        return true;
    }
    void unlock_shared() {
        bool last = false;
        {
            const std::lock_guard lock(m_mutex);
            last = --m_readers == 0;
        }
        // Only a writer waits for the readers to leave.
        if (last) m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::size_t m_readers = 0;
    std::size_t m_writers_waiting = 0;
    bool m_writer = false;
};

}  // namespace satload::payments
