// Group commit for an embedded SQLite store: writers that arrive while a commit is syncing
// share the next one. Each write runs in a savepoint of one shared transaction (a failed write
// rolls back alone) and returns only when that transaction is durable (synchronous=FULL), so
// every caller keeps the guarantee of its own commit at a fraction of the syncs.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "store/blob_store.h"

namespace satload::store::sqlite {

// Writes taken into one transaction at most, so one commit never holds readers off for long.
inline constexpr std::size_t kGroupCommitMaxWrites = 256;

class GroupCommit {
public:
    using Write = std::function<StoreResult<void>(sqlite3*)>;

    // `db_mutex` is the store's lock of its connection: held while a group runs.
    GroupCommit(sqlite3* db, std::mutex& db_mutex) : m_db(db), m_db_mutex(db_mutex) {}
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Runs `write` (statements only: no BEGIN or COMMIT of its own) in the next group; its
    // result once the group is committed. The caller must not hold `db_mutex`.
    StoreResult<void> run(const Write& write);

    // Runs `write` at once in a transaction of its own that is committed but not synced
    // (synchronous=NORMAL for that commit): it becomes durable with the next synced commit on
    // this database or a checkpoint, since WAL frames are appended in order and a sync covers
    // all before it. Only for state a crash may lose because it can be rebuilt. The caller
    // must not hold `db_mutex`.
    StoreResult<void> run_unsynced(const Write& write);

    // Groups committed so far, and writes waiting for a group (for tests and metrics).
    [[nodiscard]] std::size_t commits() const;
    [[nodiscard]] std::size_t queued() const;

private:
    struct Pending {
        const Write* write;
        std::optional<StoreResult<void>> result;
    };
    void execute(std::vector<Pending*>& group);

    sqlite3* m_db;
    std::mutex& m_db_mutex;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Pending*> m_queue;
    bool m_leading = false;
    std::size_t m_commits = 0;
};

}  // namespace satload::store::sqlite
