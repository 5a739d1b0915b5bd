// SqliteLedgerStore: journal rows and account totals in SQLite, with prepared statements
// reused across batches, and one write transaction per batch.
#include "ledger/sqlite_ledger_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <string_view>
#include <type_traits>

#include "core/check.h"

namespace satload::ledger {
namespace {

constexpr int kBusyTimeoutMs = 10'000;
// WAL checkpoints (copying committed pages back into the database file) run on their own
// thread and connection, so commits never wait for them: every interval, or as soon as the
// WAL passes the soft limit. Past the hard limit (a checkpoint that cannot keep up) the writer
// checkpoints itself, so the WAL stays bounded.
constexpr int kWalCheckpointIntervalMs = 250;
constexpr int kWalPagesSoft = 16'384;    // 64 MiB of 4 KiB pages
constexpr int kWalPagesHard = 262'144;   // 1 GiB

// Migration N (1-based) takes the schema from version N-1 to N; shipped migrations are
// never edited. Zero ids are stored as NULL so that partial indexes skip them. The only index
// every row pays for is the one on transfer ids (idempotency); account histories are lists
// linked through the journal (debit_prev, credit_prev), not indexes.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE ledger_accounts (
    created_seq     INTEGER PRIMARY KEY NOT NULL,
    id              BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    kind            INTEGER NOT NULL,
    flags           INTEGER NOT NULL,
    owner           TEXT NOT NULL,
    debits_pending  INTEGER NOT NULL,
    debits_posted   INTEGER NOT NULL,
    credits_pending INTEGER NOT NULL,
    credits_posted  INTEGER NOT NULL,
    timestamp_ns    INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL
) STRICT;
CREATE TABLE ledger_journal (
    seq          INTEGER PRIMARY KEY NOT NULL,
    kind         INTEGER NOT NULL,
    id           BLOB NOT NULL,
    debit_id     BLOB,
    credit_id    BLOB,
    debit_prev   INTEGER NOT NULL,
    credit_prev  INTEGER NOT NULL,
    pending_id   BLOB,
    user_data    BLOB,
    amount       INTEGER NOT NULL,
    timeout_s    INTEGER NOT NULL,
    code         INTEGER NOT NULL,
    flags        INTEGER NOT NULL,
    result       INTEGER NOT NULL,
    timestamp_ns INTEGER NOT NULL,
    memo         TEXT NOT NULL,
    hash         BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX ledger_journal_transfer_id ON ledger_journal (id) WHERE kind IN (2, 3);
CREATE INDEX ledger_journal_resolution ON ledger_journal (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_journal_pendings ON ledger_journal (seq) WHERE kind = 2 AND (flags & 2) != 0;
)sql",
};
static_assert(std::size(kMigrations) == kSqliteLedgerSchemaVersion);

constexpr std::string_view kEntryColumns =
    "seq, kind, id, debit_id, credit_id, debit_prev, credit_prev, pending_id, user_data, amount, "
    "timeout_s, code, flags, result, timestamp_ns, memo, hash";
constexpr std::string_view kAccountColumns =
    "id, kind, flags, owner, debits_pending, debits_posted, credits_pending, credits_posted, "
    "timestamp_ns, last_seq, created_seq";

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

StoreFailure failure(sqlite3* db, std::string_view what) {
    std::string message(what);
    message += ": ";
    message += sqlite3_errmsg(db);
    return StoreFailure{StoreError::io, std::move(message)};
}

StoreFailure corrupt(std::string_view what, std::int64_t seq) {
    return StoreFailure{StoreError::corrupt,
                        std::string(what) + " in journal entry " + std::to_string(seq)};
}

StoreResult<StmtPtr> prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &s, nullptr) != SQLITE_OK) {
        return fail(failure(db, "prepare"));
    }
    return StmtPtr(s);
}

StoreResult<void> exec(sqlite3* db, const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = sql.substr(0, 40) + ": " + (error ? error : "?");
        sqlite3_free(error);
        return fail(StoreFailure{StoreError::io, std::move(message)});
    }
    return {};
}

// Resets a statement when the scope ends, so a failed step never leaves it busy.
class Use {
public:
    explicit Use(const StmtPtr& s) : m_s(s.get()) {}
    ~Use() {
        sqlite3_reset(m_s);
        sqlite3_clear_bindings(m_s);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    sqlite3_stmt* operator*() const { return m_s; }

private:
    sqlite3_stmt* m_s;
};

void bind_id(sqlite3_stmt* s, int index, Id128 id) {
    if (id.is_zero()) {
        sqlite3_bind_null(s, index);
        return;
    }
    const IdBytes b = id_bytes(id);
    sqlite3_bind_blob(s, index, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
}

void bind_text(sqlite3_stmt* s, int index, const std::string& text) {
    sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// A NULL column is the zero id; anything but 16 bytes is corruption.
bool column_id(sqlite3_stmt* s, int col, Id128& out) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        out = Id128{};
        return true;
    }
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, col));
    const int size = sqlite3_column_bytes(s, col);
    if (size != static_cast<int>(kIdBytes) || data == nullptr) return false;
    out = id_from_bytes(ByteSpan(data, kIdBytes));
    return !out.is_zero();
}

std::string column_text(sqlite3_stmt* s, int col) {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
                : std::string();
}

// Small unsigned columns: a value out of the type's range is corruption, not truncation.
template <class T>
bool column_int(sqlite3_stmt* s, int col, T& out) {
    static_assert(std::is_unsigned_v<T>);
    const sqlite3_int64 v = sqlite3_column_int64(s, col);
    if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(v);
    return true;
}

StoreResult<JournalEntry> read_entry(sqlite3_stmt* s) {
    JournalEntry e;
    e.seq = sqlite3_column_int64(s, 0);
    std::uint8_t kind = 0;
    if (!column_int(s, 1, kind) || kind < 1 || kind > 4) return fail(corrupt("bad kind", e.seq));
    e.kind = static_cast<EntryKind>(kind);
    if (!column_id(s, 2, e.id) || e.id.is_zero()) return fail(corrupt("bad id", e.seq));
    if (!column_id(s, 3, e.debit_account_id) || !column_id(s, 4, e.credit_account_id) ||
        !column_id(s, 7, e.pending_id) || !column_id(s, 8, e.user_data)) {
        return fail(corrupt("bad id column", e.seq));
    }
    e.debit_prev_seq = sqlite3_column_int64(s, 5);
    e.credit_prev_seq = sqlite3_column_int64(s, 6);
    e.amount_msat = sqlite3_column_int64(s, 9);
    if (!column_int(s, 10, e.timeout_s) || !column_int(s, 11, e.code) ||
        !column_int(s, 12, e.flags) || !column_int(s, 13, e.result)) {
        return fail(corrupt("field out of range", e.seq));
    }
    e.timestamp_ns = sqlite3_column_int64(s, 14);
    e.memo = column_text(s, 15);
    if (e.memo.size() > 0xffff) return fail(corrupt("memo too long", e.seq));
    if (sqlite3_column_bytes(s, 16) != static_cast<int>(e.hash.size())) {
        return fail(corrupt("bad hash length", e.seq));
    }
    const auto* hash = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 16));
    std::copy(hash, hash + e.hash.size(), e.hash.begin());
    return e;
}

StoreResult<Account> read_account(sqlite3_stmt* s) {
    Account a;
    if (!column_id(s, 0, a.id) || a.id.is_zero()) {
        return fail(StoreFailure{StoreError::corrupt, "account row with a bad id"});
    }
    std::uint16_t kind = 0;
    if (!column_int(s, 1, kind) || kind == 0 || kind > kAccountKindMax || !column_int(s, 2, a.flags)) {
        return fail(StoreFailure{StoreError::corrupt, "account " + id_hex(a.id) + ": bad kind or flags"});
    }
    a.kind = static_cast<AccountKind>(kind);
    a.owner = column_text(s, 3);
    a.debits_pending_msat = sqlite3_column_int64(s, 4);
    a.debits_posted_msat = sqlite3_column_int64(s, 5);
    a.credits_pending_msat = sqlite3_column_int64(s, 6);
    a.credits_posted_msat = sqlite3_column_int64(s, 7);
    a.timestamp_ns = sqlite3_column_int64(s, 8);
    a.last_entry_seq = sqlite3_column_int64(s, 9);
    a.created_seq = sqlite3_column_int64(s, 10);
    if (validate_account(a) != CreateAccountResult::ok) {
        return fail(StoreFailure{StoreError::corrupt, "account " + id_hex(a.id) + " is invalid"});
    }
    return a;
}

StoreResult<void> sync_path(const std::filesystem::path& path, bool directory) {
    const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(StoreFailure{StoreError::io, "open " + path.string()});
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return fail(StoreFailure{StoreError::io, "fsync " + path.string()});
    return {};
}

}  // namespace

struct SqliteLedgerStore::Impl {
    std::filesystem::path file;
    DbPtr write_db;
    DbPtr read_db;
    std::mutex read_mutex;  // the read connection serves one caller at a time

    // The WAL checkpointer.
    DbPtr checkpoint_db;
    std::thread checkpointer;
    std::mutex checkpoint_mutex;
    std::condition_variable checkpoint_cv;
    bool checkpoint_now = false;
    bool checkpoint_stop = false;

    ~Impl() {
        {
            std::lock_guard lock(checkpoint_mutex);
            checkpoint_stop = true;
        }
        checkpoint_cv.notify_all();
        if (checkpointer.joinable()) checkpointer.join();
    }

    void checkpoint_loop() {
        std::unique_lock lock(checkpoint_mutex);
        while (!checkpoint_stop) {
            checkpoint_cv.wait_for(lock, std::chrono::milliseconds(kWalCheckpointIntervalMs),
                                   [&] { return checkpoint_now || checkpoint_stop; });
            if (checkpoint_stop) break;
            checkpoint_now = false;
            lock.unlock();
            // PASSIVE: copies what it can without blocking the writer or readers; a failure
            // (e.g. busy) is simply retried on the next round.
            (void)sqlite3_wal_checkpoint_v2(checkpoint_db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                            nullptr, nullptr);
            lock.lock();
        }
    }

    // Called by SQLite after each commit on the writer connection with the WAL's size.
    static int on_wal_commit(void* self, sqlite3* db, const char*, int pages) {
        auto* impl = static_cast<Impl*>(self);
        if (pages >= kWalPagesHard) {
            (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
        } else if (pages >= kWalPagesSoft) {
            {
                std::lock_guard lock(impl->checkpoint_mutex);
                impl->checkpoint_now = true;
            }
            impl->checkpoint_cv.notify_one();
        }
        return SQLITE_OK;
    }

    StmtPtr insert_entry, insert_account, update_account, find_by_id, find_resolution;
    StmtPtr read_accounts, read_journal, read_entry_at, history, history_start_account,
        history_start_entry;

    StoreResult<DbPtr> open_connection(bool writer) {
        sqlite3* raw = nullptr;
        const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
        const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
        DbPtr db(raw);
        if (rc != SQLITE_OK) {
            return fail(StoreFailure{StoreError::io, "open " + file.string() + ": " +
                                                          (raw ? sqlite3_errmsg(raw) : "out of memory")});
        }
        sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
        // WAL: readers never block the writer. synchronous=FULL: the WAL is synced at every
        // commit, so a commit that returned survives power loss.
        std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
        if (writer) {
            pragmas += " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;";
            // Checkpoints are the checkpointer thread's job (see kWalPagesSoft).
            pragmas += " PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;";
        }
        if (auto r = exec(db.get(), pragmas); !r) return fail(r.error());
        return db;
    }

    StoreResult<void> migrate() {
        sqlite3* db = write_db.get();
        if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return r;
        auto rollback = [&](StoreFailure f) -> StoreResult<void> {
            (void)exec(db, "ROLLBACK");
            return fail(std::move(f));
        };
        if (auto r = exec(db, "CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL) STRICT");
            !r) {
            return rollback(r.error());
        }
        auto version_stmt = prepare(db, "SELECT max(version) FROM ledger_schema");
        if (!version_stmt) return rollback(version_stmt.error());
        int version = 0;
        {
            Use q(*version_stmt);
            if (sqlite3_step(*q) == SQLITE_ROW) version = sqlite3_column_int(*q, 0);
        }
        if (version > kSqliteLedgerSchemaVersion) {
            return rollback(StoreFailure{StoreError::io, "ledger schema version " + std::to_string(version) +
                                                             " is newer than this program"});
        }
        for (int v = version; v < kSqliteLedgerSchemaVersion; ++v) {
            if (auto r = exec(db, std::string(kMigrations[v])); !r) return rollback(r.error());
            if (auto r = exec(db, "INSERT INTO ledger_schema VALUES (" + std::to_string(v + 1) + ")"); !r) {
                return rollback(r.error());
            }
        }
        return exec(db, "COMMIT");
    }

    StoreResult<void> prepare_all() {
        const std::string cols(kEntryColumns);
        const std::string acols(kAccountColumns);
        struct Spec {
            StmtPtr* target;
            sqlite3* db;
            std::string sql;
        };
        const Spec specs[] = {
            {&insert_entry, write_db.get(),
             "INSERT INTO ledger_journal (" + cols + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
            {&insert_account, write_db.get(),
             "INSERT INTO ledger_accounts (" + acols + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)"},
            // Existing accounts change only totals and history head; found by rowid.
            {&update_account, write_db.get(),
             "UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, "
             "credits_posted = ?, last_seq = ? WHERE created_seq = ?"},
            {&find_by_id, write_db.get(),
             "SELECT " + cols + " FROM ledger_journal WHERE id = ? AND kind IN (2, 3)"},
            {&find_resolution, write_db.get(),
             "SELECT kind, flags FROM ledger_journal WHERE pending_id = ? AND pending_id IS NOT NULL "
             "AND kind IN (2, 4) ORDER BY seq LIMIT 1"},
            {&read_accounts, read_db.get(), "SELECT " + acols + " FROM ledger_accounts ORDER BY id"},
            {&read_journal, read_db.get(), "SELECT " + cols + " FROM ledger_journal ORDER BY seq"},
            {&read_entry_at, read_db.get(), "SELECT " + cols + " FROM ledger_journal WHERE seq = ?"},
            {&history_start_account, read_db.get(), "SELECT last_seq FROM ledger_accounts WHERE id = ?"},
            {&history_start_entry, read_db.get(),
             "SELECT CASE WHEN kind = 1 THEN (CASE WHEN id = ?1 THEN 0 ELSE -1 END) "
             "WHEN debit_id = ?1 THEN debit_prev WHEN credit_id = ?1 THEN credit_prev ELSE -1 END "
             "FROM ledger_journal WHERE seq = ?2"},
            // Follows the account's list backwards from ?2, at most ?3 entries.
            {&history, read_db.get(),
             "WITH RECURSIVE h(seq, depth) AS (SELECT ?2, 1 UNION ALL SELECT CASE "
             "WHEN j.debit_id = ?1 THEN j.debit_prev WHEN j.credit_id = ?1 THEN j.credit_prev ELSE 0 END, "
             "h.depth + 1 FROM ledger_journal j JOIN h ON j.seq = h.seq WHERE h.depth < ?3) "
             "SELECT " + cols + " FROM ledger_journal WHERE seq IN (SELECT seq FROM h WHERE seq > 0) "
             "ORDER BY seq DESC"},
        };
        for (const Spec& spec : specs) {
            auto s = prepare(spec.db, spec.sql);
            if (!s) return fail(s.error());
            *spec.target = std::move(*s);
        }
        return {};
    }

    StoreResult<std::optional<PendingStatus>> resolution(Id128 pending_id) {
        Use q(find_resolution);
        bind_id(*q, 1, pending_id);
        const int rc = sqlite3_step(*q);
        if (rc == SQLITE_DONE) return std::optional(PendingStatus::pending);
        if (rc != SQLITE_ROW) return fail(failure(write_db.get(), "find resolution"));
        const int kind = sqlite3_column_int(*q, 0);
        const int flags = sqlite3_column_int(*q, 1);
        if (kind == static_cast<int>(EntryKind::expiry)) return std::optional(PendingStatus::expired);
        if ((flags & transfer_flags::post_pending) != 0) return std::optional(PendingStatus::posted);
        if ((flags & transfer_flags::void_pending) != 0) return std::optional(PendingStatus::voided);
        return fail(StoreFailure{StoreError::corrupt, "a resolution that neither posts nor voids"});
    }
};

SqliteLedgerStore::SqliteLedgerStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
SqliteLedgerStore::~SqliteLedgerStore() = default;

StoreResult<std::unique_ptr<SqliteLedgerStore>> SqliteLedgerStore::open(
    const std::filesystem::path& file) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    auto w = impl->open_connection(true);
    if (!w) return fail(w.error());
    impl->write_db = std::move(*w);
    if (auto r = impl->migrate(); !r) return fail(r.error());
    auto rd = impl->open_connection(false);
    if (!rd) return fail(rd.error());
    impl->read_db = std::move(*rd);
    auto cp = impl->open_connection(false);
    if (!cp) return fail(cp.error());
    impl->checkpoint_db = std::move(*cp);
    if (auto r = impl->prepare_all(); !r) return fail(r.error());
    // wal_hook replaces the autocheckpoint hook, which is off anyway.
    sqlite3_wal_hook(impl->write_db.get(), &Impl::on_wal_commit, impl.get());
    impl->checkpointer = std::thread([raw = impl.get()] { raw->checkpoint_loop(); });
    return std::unique_ptr<SqliteLedgerStore>(new SqliteLedgerStore(std::move(impl)));
}

std::string SqliteLedgerStore::describe() const { return "sqlite:" + m_impl->file.string(); }

StoreResult<LoadedLedger> SqliteLedgerStore::load() {
    sqlite3* db = m_impl->write_db.get();
    LoadedLedger out;
    if (auto r = exec(db, "BEGIN"); !r) return fail(r.error());
    auto finish = [&](StoreResult<LoadedLedger> r) {
        (void)exec(db, "COMMIT");
        return r;
    };
    {
        auto s = prepare(db, "SELECT " + std::string(kAccountColumns) + " FROM ledger_accounts");
        if (!s) return finish(fail(s.error()));
        Use q(*s);
        int rc = 0;
        while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
            auto a = read_account(*q);
            if (!a) return finish(fail(a.error()));
            out.accounts.push_back(std::move(*a));
        }
        if (rc != SQLITE_DONE) return finish(fail(failure(db, "load accounts")));
    }
    {
        auto s = prepare(db, "SELECT " + std::string(kEntryColumns) +
                                 " FROM ledger_journal j WHERE kind = 2 AND (flags & 2) != 0 AND NOT "
                                 "EXISTS (SELECT 1 FROM ledger_journal r WHERE r.pending_id = j.id AND "
                                 "r.pending_id IS NOT NULL AND r.kind IN (2, 4)) ORDER BY seq");
        if (!s) return finish(fail(s.error()));
        Use q(*s);
        int rc = 0;
        while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
            auto e = read_entry(*q);
            if (!e) return finish(fail(e.error()));
            out.open_pendings.push_back(entry_transfer(*e));
        }
        if (rc != SQLITE_DONE) return finish(fail(failure(db, "load pending transfers")));
    }
    {
        auto s = prepare(db, "SELECT seq, hash, timestamp_ns FROM ledger_journal ORDER BY seq DESC LIMIT 1");
        if (!s) return finish(fail(s.error()));
        Use q(*s);
        const int rc = sqlite3_step(*q);
        if (rc == SQLITE_ROW) {
            out.head.count = sqlite3_column_int64(*q, 0);
            if (sqlite3_column_bytes(*q, 1) != static_cast<int>(out.head.hash.size())) {
                return finish(fail(corrupt("bad hash length", out.head.count)));
            }
            const auto* h = static_cast<const std::uint8_t*>(sqlite3_column_blob(*q, 1));
            std::copy(h, h + out.head.hash.size(), out.head.hash.begin());
            out.last_timestamp_ns = sqlite3_column_int64(*q, 2);
        } else if (rc != SQLITE_DONE) {
            return finish(fail(failure(db, "load head")));
        }
    }
    {
        auto s = prepare(db, "SELECT id FROM ledger_journal WHERE kind IN (2, 3) ORDER BY id DESC LIMIT 1");
        if (!s) return finish(fail(s.error()));
        Use q(*s);
        const int rc = sqlite3_step(*q);
        if (rc == SQLITE_ROW && !column_id(*q, 0, out.max_transfer_id)) {
            return finish(fail(StoreFailure{StoreError::corrupt, "bad transfer id"}));
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return finish(fail(failure(db, "load max id")));
    }
    return finish(std::move(out));
}

StoreResult<std::vector<KnownTransfer>> SqliteLedgerStore::find_transfers(std::span<const Id128> ids) {
    std::vector<KnownTransfer> out;
    if (ids.empty()) return out;
    // One read transaction for all lookups: SQLite would otherwise take and release its
    // shared-memory locks once per statement.
    sqlite3* db = m_impl->write_db.get();
    if (auto r = exec(db, "BEGIN"); !r) return fail(r.error());
    auto found = find_transfers_in_transaction(ids, out);
    (void)exec(db, "COMMIT");
    if (!found) return fail(found.error());
    return out;
}

StoreResult<void> SqliteLedgerStore::find_transfers_in_transaction(std::span<const Id128> ids,
                                                                   std::vector<KnownTransfer>& out) {
    for (const Id128& id : ids) {
        std::optional<JournalEntry> entry;
        {
            Use q(m_impl->find_by_id);
            bind_id(*q, 1, id);
            const int rc = sqlite3_step(*q);
            if (rc == SQLITE_ROW) {
                auto e = read_entry(*q);
                if (!e) return fail(e.error());
                entry = std::move(*e);
            } else if (rc != SQLITE_DONE) {
                return fail(failure(m_impl->write_db.get(), "find transfer"));
            }
        }
        if (!entry) continue;
        KnownTransfer k{entry_transfer(*entry), std::nullopt, std::nullopt};
        if (entry->kind == EntryKind::failure) {
            if (entry->result == 0 || entry->result > kTransferResultMax) {
                return fail(corrupt("bad failure result", entry->seq));
            }
            k.failure = static_cast<TransferResult>(entry->result);
        } else if ((entry->flags & transfer_flags::pending) != 0) {
            auto status = m_impl->resolution(id);
            if (!status) return fail(status.error());
            k.status = *status;
        }
        out.push_back(std::move(k));
    }
    return {};
}

StoreResult<void> SqliteLedgerStore::commit(std::span<const JournalEntry> entries,
                                            std::span<const Account> accounts) {
    sqlite3* db = m_impl->write_db.get();
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return r;
    auto rollback = [&](StoreFailure f) -> StoreResult<void> {
        (void)exec(db, "ROLLBACK");
        return fail(std::move(f));
    };
    for (const JournalEntry& e : entries) {
        Use q(m_impl->insert_entry);
        sqlite3_bind_int64(*q, 1, e.seq);
        sqlite3_bind_int(*q, 2, static_cast<int>(e.kind));
        bind_id(*q, 3, e.id);
        bind_id(*q, 4, e.debit_account_id);
        bind_id(*q, 5, e.credit_account_id);
        sqlite3_bind_int64(*q, 6, e.debit_prev_seq);
        sqlite3_bind_int64(*q, 7, e.credit_prev_seq);
        bind_id(*q, 8, e.pending_id);
        bind_id(*q, 9, e.user_data);
        sqlite3_bind_int64(*q, 10, e.amount_msat);
        sqlite3_bind_int64(*q, 11, e.timeout_s);
        sqlite3_bind_int(*q, 12, e.code);
        sqlite3_bind_int(*q, 13, e.flags);
        sqlite3_bind_int(*q, 14, e.result);
        sqlite3_bind_int64(*q, 15, e.timestamp_ns);
        bind_text(*q, 16, e.memo);
        sqlite3_bind_blob(*q, 17, e.hash.data(), static_cast<int>(e.hash.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(*q) != SQLITE_DONE) return rollback(failure(db, "insert journal entry"));
    }
    // Accounts whose creation entry is in this batch are new rows; the rest are updates.
    const std::int64_t first_seq = entries.empty() ? std::numeric_limits<std::int64_t>::max() : entries.front().seq;
    for (const Account& a : accounts) {
        SATLOAD_ASSERT(a.created_seq > 0);
        if (a.created_seq >= first_seq) {
            Use q(m_impl->insert_account);
            bind_id(*q, 1, a.id);
            sqlite3_bind_int(*q, 2, static_cast<int>(a.kind));
            sqlite3_bind_int(*q, 3, a.flags);
            bind_text(*q, 4, a.owner);
            sqlite3_bind_int64(*q, 5, a.debits_pending_msat);
            sqlite3_bind_int64(*q, 6, a.debits_posted_msat);
            sqlite3_bind_int64(*q, 7, a.credits_pending_msat);
            sqlite3_bind_int64(*q, 8, a.credits_posted_msat);
            sqlite3_bind_int64(*q, 9, a.timestamp_ns);
            sqlite3_bind_int64(*q, 10, a.last_entry_seq);
            sqlite3_bind_int64(*q, 11, a.created_seq);
            if (sqlite3_step(*q) != SQLITE_DONE) return rollback(failure(db, "insert account"));
            continue;
        }
        Use q(m_impl->update_account);
        sqlite3_bind_int64(*q, 1, a.debits_pending_msat);
        sqlite3_bind_int64(*q, 2, a.debits_posted_msat);
        sqlite3_bind_int64(*q, 3, a.credits_pending_msat);
        sqlite3_bind_int64(*q, 4, a.credits_posted_msat);
        sqlite3_bind_int64(*q, 5, a.last_entry_seq);
        sqlite3_bind_int64(*q, 6, a.created_seq);
        if (sqlite3_step(*q) != SQLITE_DONE) return rollback(failure(db, "update account"));
        if (sqlite3_changes(db) != 1) {
            return rollback(StoreFailure{StoreError::corrupt, "account " + id_hex(a.id) + " is not stored"});
        }
    }
    if (auto r = exec(db, "COMMIT"); !r) return rollback(r.error());
    return {};
}

StoreResult<void> SqliteLedgerStore::backup_to(const std::filesystem::path& file) {
    sqlite3* db = m_impl->write_db.get();
    auto s = prepare(db, "VACUUM INTO ?");
    if (!s) return fail(s.error());
    {
        Use q(*s);
        const std::string path = file.string();
        sqlite3_bind_text(*q, 1, path.c_str(), static_cast<int>(path.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(*q) != SQLITE_DONE) return fail(failure(db, "backup"));
    }
    if (auto r = sync_path(file, false); !r) return r;
    return sync_path(file.parent_path().empty() ? "." : file.parent_path(), true);
}

StoreResult<void> SqliteLedgerStore::scan(std::vector<Account>& accounts, const EntryVisitor& visit) {
    std::lock_guard lock(m_impl->read_mutex);
    sqlite3* db = m_impl->read_db.get();
    // One read transaction: accounts and journal come from the same snapshot.
    if (auto r = exec(db, "BEGIN"); !r) return r;
    auto finish = [&](StoreResult<void> r) {
        (void)exec(db, "COMMIT");
        return r;
    };
    {
        Use q(m_impl->read_accounts);
        int rc = 0;
        while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
            auto a = read_account(*q);
            if (!a) return finish(fail(a.error()));
            accounts.push_back(std::move(*a));
        }
        if (rc != SQLITE_DONE) return finish(fail(failure(db, "read accounts")));
    }
    Use q(m_impl->read_journal);
    int rc = 0;
    while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
        auto e = read_entry(*q);
        if (!e) return finish(fail(e.error()));
        if (!visit(*e)) return finish({});
    }
    if (rc != SQLITE_DONE) return finish(fail(failure(db, "read journal")));
    return finish({});
}

StoreResult<std::optional<JournalEntry>> SqliteLedgerStore::entry_at(std::int64_t seq) {
    std::lock_guard lock(m_impl->read_mutex);
    Use q(m_impl->read_entry_at);
    sqlite3_bind_int64(*q, 1, seq);
    const int rc = sqlite3_step(*q);
    if (rc == SQLITE_DONE) return std::optional<JournalEntry>();
    if (rc != SQLITE_ROW) return fail(failure(m_impl->read_db.get(), "read entry"));
    auto e = read_entry(*q);
    if (!e) return fail(e.error());
    return std::optional(std::move(*e));
}

StoreResult<std::vector<JournalEntry>> SqliteLedgerStore::account_history(Id128 account_id,
                                                                          std::int64_t before_seq,
                                                                          std::size_t limit) {
    std::lock_guard lock(m_impl->read_mutex);
    sqlite3* db = m_impl->read_db.get();
    std::vector<JournalEntry> out;
    limit = std::min(limit, kHistoryLimitMax);
    if (limit == 0) return out;
    // The list starts at the account's newest entry, or after the page's last entry.
    std::int64_t start = 0;
    {
        const StmtPtr& s = before_seq > 0 ? m_impl->history_start_entry : m_impl->history_start_account;
        Use q(s);
        bind_id(*q, 1, account_id);
        if (before_seq > 0) sqlite3_bind_int64(*q, 2, before_seq);
        const int rc = sqlite3_step(*q);
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(failure(db, "read history"));
        start = sqlite3_column_int64(*q, 0);
    }
    if (start <= 0) return out;
    Use q(m_impl->history);
    bind_id(*q, 1, account_id);
    sqlite3_bind_int64(*q, 2, start);
    sqlite3_bind_int64(*q, 3, static_cast<sqlite3_int64>(limit));
    int rc = 0;
    while ((rc = sqlite3_step(*q)) == SQLITE_ROW) {
        auto e = read_entry(*q);
        if (!e) return fail(e.error());
        out.push_back(std::move(*e));
    }
    if (rc != SQLITE_DONE) return fail(failure(db, "read history"));
    return out;
}

}  // namespace satload::ledger
