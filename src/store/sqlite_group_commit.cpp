// Group commit: the first writer to find no group running leads one; the rest wait for it.
#include "store/sqlite_group_commit.h"

#include <algorithm>

#include "store/sqlite_db.h"

namespace satload::store::sqlite {

StoreResult<void> GroupCommit::run(const Write& write) {
    Pending mine{&write, std::nullopt};
    std::unique_lock lock(m_mutex);
    m_queue.push_back(&mine);
    while (!mine.result) {
        if (m_leading) {
            m_cv.wait(lock);
            continue;
        }
        // Lead one group (which holds this write: queued writes are taken in order), then hand
        // over: a waiter whose write is still queued leads the next.
        m_leading = true;
        const std::size_t n = std::min(m_queue.size(), kGroupCommitMaxWrites);
        std::vector<Pending*> group(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
        m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(n));
        lock.unlock();
        execute(group);
        lock.lock();
        ++m_commits;
        m_leading = false;
        m_cv.notify_all();
    }
    return std::move(*mine.result);
}

StoreResult<void> GroupCommit::run_unsynced(const Write& write) {
    const std::lock_guard db_lock(m_db_mutex);
    if (sqlite3_exec(m_db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
        return fail(failure(m_db, "unsynced commit"));
    }
    // Back to FULL whatever happens below: every other commit on this connection syncs.
    struct RestoreFull {
        sqlite3* db;
        ~RestoreFull() { sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr); }
    } restore{m_db};
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    if (auto r = write(m_db); !r) return fail(r.error());
    return tx.commit();
}

std::size_t GroupCommit::commits() const {
    const std::lock_guard lock(m_mutex);
    return m_commits;
}

std::size_t GroupCommit::queued() const {
    const std::lock_guard lock(m_mutex);
    return m_queue.size();
}

void GroupCommit::execute(std::vector<Pending*>& group) {
    const std::lock_guard db_lock(m_db_mutex);
    const auto fail_all = [&group](const StoreFailure& f) {
        for (Pending* p : group) p->result = fail(f);
    };
    if (sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
        fail_all(failure(m_db, "begin group commit"));
        return;
    }
    for (Pending* p : group) {
        if (sqlite3_exec(m_db, "SAVEPOINT one_write", nullptr, nullptr, nullptr) != SQLITE_OK) {
            p->result = fail(failure(m_db, "savepoint"));
            continue;
        }
        StoreResult<void> r = (*p->write)(m_db);
        if (!r) sqlite3_exec(m_db, "ROLLBACK TO one_write", nullptr, nullptr, nullptr);
        sqlite3_exec(m_db, "RELEASE one_write", nullptr, nullptr, nullptr);
        p->result = std::move(r);
    }
    if (sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        const StoreFailure f = failure(m_db, "commit group");
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        // Nothing of the group is stored: a write that succeeded inside it fails now.
        for (Pending* p : group) {
            if (*p->result) p->result = fail(f);
        }
    }
}

}  // namespace satload::store::sqlite
