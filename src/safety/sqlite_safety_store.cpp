// SqliteSafetyStore: the trust-and-safety tables in SQLite, one transaction per call.
#include "safety/sqlite_safety_store.h"

#include "store/sqlite_db.h"

namespace satload::safety {
namespace {

using namespace store::sqlite;
constexpr std::string_view kVersionTable = "safety_schema_version";

// Migration N (1-based) takes the safety schema from N-1 to N. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: reports, takedowns, notices, the digest blocklist, account flags, the admin log.
    R"sql(
CREATE TABLE safety_reports (
    report_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    reference  TEXT NOT NULL UNIQUE,
    file_id    TEXT NOT NULL,
    link       TEXT NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('copyright', 'malware', 'abuse', 'other')),
    reason     TEXT NOT NULL,
    contact    TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    created_s  INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'dismissed')),
    resolved_s INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX safety_reports_open ON safety_reports (state, report_id);
CREATE INDEX safety_reports_by_file ON safety_reports (file_id, state);
CREATE TABLE safety_takedowns (
    takedown_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id          TEXT NOT NULL,
    report_id        INTEGER NOT NULL,
    owner_account_id INTEGER,
    sha256_hex       TEXT NOT NULL CHECK (length(sha256_hex) = 64),
    category         TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_s        INTEGER NOT NULL,
    restored_s       INTEGER NOT NULL DEFAULT 0
) STRICT;
-- At most one takedown in force per file.
CREATE UNIQUE INDEX safety_takedowns_active ON safety_takedowns (file_id) WHERE restored_s = 0;
CREATE INDEX safety_takedowns_by_owner ON safety_takedowns (owner_account_id, restored_s);
CREATE TABLE safety_notices (
    notice_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL,
    takedown_id  INTEGER NOT NULL REFERENCES safety_takedowns (takedown_id),
    file_id      TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_s    INTEGER NOT NULL,
    counter_text TEXT NOT NULL DEFAULT '',
    counter_s    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX safety_notices_by_account ON safety_notices (account_id, notice_id);
CREATE TABLE safety_blocklist (
    sha256_hex  TEXT NOT NULL,
    takedown_id INTEGER NOT NULL REFERENCES safety_takedowns (takedown_id),
    PRIMARY KEY (sha256_hex, takedown_id)
) STRICT;
CREATE TABLE safety_accounts (
    account_id INTEGER PRIMARY KEY,
    frozen_s   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE safety_admin_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at_s   INTEGER NOT NULL,
    who    TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    why    TEXT NOT NULL
) STRICT;
CREATE TRIGGER safety_admin_log_no_update BEFORE UPDATE ON safety_admin_log
BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
CREATE TRIGGER safety_admin_log_no_delete BEFORE DELETE ON safety_admin_log
BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
)sql",
};

constexpr const char* kReportColumns =
    "report_id, reference, file_id, link, category, reason, contact, evidence, created_s, state, resolved_s";
constexpr const char* kTakedownColumns =
    "takedown_id, file_id, report_id, owner_account_id, sha256_hex, category, reason, created_s, restored_s";
constexpr const char* kNoticeColumns =
    "notice_id, account_id, takedown_id, file_id, text, created_s, counter_text, counter_s";
constexpr const char* kLogColumns = "seq, at_s, who, action, target, why";

ReportState parse_state(const std::string& s) {
    if (s == "upheld") return ReportState::upheld;
    if (s == "dismissed") return ReportState::dismissed;
    return ReportState::open;
}

ReportRecord read_report(sqlite3_stmt* s) {
    ReportRecord r;
    r.report_id = sqlite3_column_int64(s, 0);
    r.reference = column_text(s, 1);
    r.file_id = column_text(s, 2);
    r.link = column_text(s, 3);
    r.category = parse_category(column_text(s, 4)).value_or(Category::other);
    r.reason = column_text(s, 5);
    r.contact = column_text(s, 6);
    r.evidence = column_text(s, 7);
    r.created_s = sqlite3_column_int64(s, 8);
    r.state = parse_state(column_text(s, 9));
    r.resolved_s = sqlite3_column_int64(s, 10);
    return r;
}

TakedownRecord read_takedown(sqlite3_stmt* s) {
    TakedownRecord t;
    t.takedown_id = sqlite3_column_int64(s, 0);
    t.file_id = column_text(s, 1);
    t.report_id = sqlite3_column_int64(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) t.owner = sqlite3_column_int64(s, 3);
    t.sha256_hex = column_text(s, 4);
    t.category = parse_category(column_text(s, 5)).value_or(Category::other);
    t.reason = column_text(s, 6);
    t.created_s = sqlite3_column_int64(s, 7);
    t.restored_s = sqlite3_column_int64(s, 8);
    return t;
}

NoticeRecord read_notice(sqlite3_stmt* s) {
    NoticeRecord n;
    n.notice_id = sqlite3_column_int64(s, 0);
    n.account = sqlite3_column_int64(s, 1);
    n.takedown_id = sqlite3_column_int64(s, 2);
    n.file_id = column_text(s, 3);
    n.text = column_text(s, 4);
    n.created_s = sqlite3_column_int64(s, 5);
    n.counter_text = column_text(s, 6);
    n.counter_s = sqlite3_column_int64(s, 7);
    return n;
}

LogEntry read_log(sqlite3_stmt* s) {
    return LogEntry{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), column_text(s, 2),
                    column_text(s, 3),          column_text(s, 4),          column_text(s, 5)};
}

}  // namespace

std::string_view category_name(Category c) {
    switch (c) {
        case Category::copyright: return "copyright";
        case Category::malware: return "malware";
        case Category::abuse: return "abuse";
        case Category::other: return "other";
    }
    return "other";
}

std::optional<Category> parse_category(std::string_view text) {
    for (const Category c : {Category::copyright, Category::malware, Category::abuse, Category::other}) {
        if (category_name(c) == text) return c;
    }
    return std::nullopt;
}

std::string_view report_state_name(ReportState s) {
    switch (s) {
        case ReportState::open: return "open";
        case ReportState::upheld: return "upheld";
        case ReportState::dismissed: return "dismissed";
    }
    return "open";
}

SqliteSafetyStore::SqliteSafetyStore(sqlite3* db) : m_db(db) {}
SqliteSafetyStore::~SqliteSafetyStore() { store::sqlite::close_database(m_db); }

StoreResult<std::unique_ptr<SqliteSafetyStore>> SqliteSafetyStore::open(const std::filesystem::path& db_file) {
    auto db = open_database(db_file, kSqliteSafetyBusyTimeoutMs);
    if (!db) return fail(db.error());
    if (auto r = migrate(db->get(), kVersionTable, kMigrations); !r) return fail(r.error());
    return std::unique_ptr<SqliteSafetyStore>(new SqliteSafetyStore(db->release()));
}

StoreResult<ReportRecord> SqliteSafetyStore::insert_report(const ReportRecord& r) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "INSERT INTO safety_reports (reference, file_id, link, category, reason, contact, evidence, "
            "created_s, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open')");
    if (!q.prepared()) return fail(failure(m_db, "prepare insert report"));
    q.text(1, r.reference).text(2, r.file_id).text(3, r.link).text(4, category_name(r.category));
    q.text(5, r.reason).text(6, r.contact).text(7, r.evidence).i64(8, r.created_s);
    if (auto done = run(m_db, q, "insert report"); !done) return fail(done.error());
    ReportRecord out = r;
    out.report_id = sqlite3_last_insert_rowid(m_db);
    out.state = ReportState::open;
    return out;
}

StoreResult<std::optional<ReportRecord>> SqliteSafetyStore::get_report(std::int64_t report_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kReportColumns + " FROM safety_reports WHERE report_id = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare get report"));
    q.i64(1, report_id);
    return first<ReportRecord>(m_db, q, read_report, "get report");
}

StoreResult<std::vector<ReportRecord>> SqliteSafetyStore::open_reports(std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kReportColumns +
                      " FROM safety_reports WHERE state = 'open' ORDER BY report_id LIMIT ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare open reports"));
    q.i64(1, limit_to_db(limit));
    return collect<ReportRecord>(m_db, q, read_report, "open reports");
}

StoreResult<int> SqliteSafetyStore::resolve_reports(const std::string& file_id, ReportState state,
                                                    std::int64_t at_s) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE safety_reports SET state = ?2, resolved_s = ?3 WHERE file_id = ?1 AND state = 'open'");
    if (!q.prepared()) return fail(failure(m_db, "prepare resolve reports"));
    q.text(1, file_id).text(2, report_state_name(state)).i64(3, at_s);
    return run(m_db, q, "resolve reports");
}

StoreResult<int> SqliteSafetyStore::resolve_report(std::int64_t report_id, ReportState state, std::int64_t at_s) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE safety_reports SET state = ?2, resolved_s = ?3 WHERE report_id = ?1 AND state = 'open'");
    if (!q.prepared()) return fail(failure(m_db, "prepare resolve report"));
    q.i64(1, report_id).text(2, report_state_name(state)).i64(3, at_s);
    return run(m_db, q, "resolve report");
}

StoreResult<TakedownRecord> SqliteSafetyStore::insert_takedown(const TakedownRecord& t,
                                                               const std::optional<NoticeRecord>& notice,
                                                               const LogEntry& log) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    Query q(m_db,
            "INSERT INTO safety_takedowns (file_id, report_id, owner_account_id, sha256_hex, category, "
            "reason, created_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!q.prepared()) return fail(failure(m_db, "prepare insert takedown"));
    q.text(1, t.file_id).i64(2, t.report_id);
    if (t.owner) {
        q.i64(3, *t.owner);
    } else {
        q.null(3);
    }
    q.text(4, t.sha256_hex).text(5, category_name(t.category)).text(6, t.reason).i64(7, t.created_s);
    if (auto r = run(m_db, q, "insert takedown"); !r) return fail(r.error());
    TakedownRecord out = t;
    out.takedown_id = sqlite3_last_insert_rowid(m_db);
    out.restored_s = 0;
    Query block(m_db, "INSERT INTO safety_blocklist (sha256_hex, takedown_id) VALUES (?1, ?2)");
    if (!block.prepared()) return fail(failure(m_db, "prepare block digest"));
    block.text(1, t.sha256_hex).i64(2, out.takedown_id);
    if (auto r = run(m_db, block, "block digest"); !r) return fail(r.error());
    if (notice) {
        Query n(m_db,
                "INSERT INTO safety_notices (account_id, takedown_id, file_id, text, created_s) "
                "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!n.prepared()) return fail(failure(m_db, "prepare insert notice"));
        n.i64(1, notice->account).i64(2, out.takedown_id).text(3, notice->file_id).text(4, notice->text);
        n.i64(5, notice->created_s);
        if (auto r = run(m_db, n, "insert notice"); !r) return fail(r.error());
    }
    if (auto r = append_log_locked(log); !r) return fail(r.error());
    if (auto r = tx.commit(); !r) return fail(r.error());
    return out;
}

StoreResult<std::vector<TakedownRecord>> SqliteSafetyStore::active_takedowns() {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kTakedownColumns +
                      " FROM safety_takedowns WHERE restored_s = 0 ORDER BY takedown_id");
    return collect<TakedownRecord>(m_db, q, read_takedown, "active takedowns");
}

StoreResult<TakedownRecord> SqliteSafetyStore::restore_takedown(const std::string& file_id, std::int64_t at_s,
                                                                const LogEntry& log) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    Query find(m_db, std::string("SELECT ") + kTakedownColumns +
                         " FROM safety_takedowns WHERE file_id = ?1 AND restored_s = 0");
    if (!find.prepared()) return fail(failure(m_db, "prepare find takedown"));
    find.text(1, file_id);
    auto found = first<TakedownRecord>(m_db, find, read_takedown, "find takedown");
    if (!found) return fail(found.error());
    if (!*found) return fail(StoreFailure{store::StoreError::not_found, "the file is not taken down"});
    TakedownRecord t = std::move(**found);
    Query lift(m_db, "UPDATE safety_takedowns SET restored_s = ?2 WHERE takedown_id = ?1");
    if (!lift.prepared()) return fail(failure(m_db, "prepare restore takedown"));
    // restored_s must differ from 0 even for a clock at the epoch (tests).
    t.restored_s = at_s > 0 ? at_s : 1;
    lift.i64(1, t.takedown_id).i64(2, t.restored_s);
    if (auto r = run(m_db, lift, "restore takedown"); !r) return fail(r.error());
    Query unblock(m_db, "DELETE FROM safety_blocklist WHERE takedown_id = ?1");
    if (!unblock.prepared()) return fail(failure(m_db, "prepare unblock digest"));
    unblock.i64(1, t.takedown_id);
    if (auto r = run(m_db, unblock, "unblock digest"); !r) return fail(r.error());
    if (auto r = append_log_locked(log); !r) return fail(r.error());
    if (auto r = tx.commit(); !r) return fail(r.error());
    return t;
}

StoreResult<std::uint64_t> SqliteSafetyStore::strikes(AccountId account) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT count(*) FROM safety_takedowns WHERE owner_account_id = ?1 AND restored_s = 0");
    if (!q.prepared()) return fail(failure(m_db, "prepare strikes"));
    q.i64(1, account);
    auto row = first<std::uint64_t>(m_db, q, [](sqlite3_stmt* s) { return column_u64(s, 0); }, "strikes");
    if (!row) return fail(row.error());
    return row->value_or(0);
}

StoreResult<std::vector<NoticeRecord>> SqliteSafetyStore::notices(AccountId account, std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kNoticeColumns +
                      " FROM safety_notices WHERE account_id = ?1 ORDER BY notice_id DESC LIMIT ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare notices"));
    q.i64(1, account).i64(2, limit_to_db(limit));
    return collect<NoticeRecord>(m_db, q, read_notice, "notices");
}

StoreResult<NoticeRecord> SqliteSafetyStore::counter_notice(AccountId account, std::int64_t notice_id,
                                                            const std::string& text, std::int64_t at_s) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    Query find(m_db, std::string("SELECT ") + kNoticeColumns +
                         " FROM safety_notices WHERE notice_id = ?1 AND account_id = ?2");
    if (!find.prepared()) return fail(failure(m_db, "prepare find notice"));
    find.i64(1, notice_id).i64(2, account);
    auto found = first<NoticeRecord>(m_db, find, read_notice, "find notice");
    if (!found) return fail(found.error());
    if (!*found) return fail(StoreFailure{store::StoreError::not_found, "no such notice"});
    if ((*found)->counter_s != 0) {
        return fail(StoreFailure{store::StoreError::exists, "a counter-notice was already filed"});
    }
    Query q(m_db, "UPDATE safety_notices SET counter_text = ?2, counter_s = ?3 WHERE notice_id = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare counter notice"));
    const std::int64_t counter_s = at_s > 0 ? at_s : 1;
    q.i64(1, notice_id).text(2, text).i64(3, counter_s);
    if (auto r = run(m_db, q, "counter notice"); !r) return fail(r.error());
    if (auto r = tx.commit(); !r) return fail(r.error());
    NoticeRecord out = std::move(**found);
    out.counter_text = text;
    out.counter_s = counter_s;
    return out;
}

StoreResult<std::vector<std::string>> SqliteSafetyStore::blocked_digests() {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT DISTINCT sha256_hex FROM safety_blocklist ORDER BY sha256_hex");
    return collect<std::string>(m_db, q, [](sqlite3_stmt* s) { return column_text(s, 0); }, "blocklist");
}

StoreResult<std::vector<AccountFlags>> SqliteSafetyStore::frozen_accounts() {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT account_id, frozen_s FROM safety_accounts WHERE frozen_s <> 0 ORDER BY account_id");
    return collect<AccountFlags>(
        m_db, q, [](sqlite3_stmt* s) { return AccountFlags{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)}; },
        "frozen accounts");
}

StoreResult<void> SqliteSafetyStore::set_frozen(AccountId account, std::int64_t frozen_s, const LogEntry& log) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    Query q(m_db,
            "INSERT INTO safety_accounts (account_id, frozen_s) VALUES (?1, ?2) "
            "ON CONFLICT (account_id) DO UPDATE SET frozen_s = excluded.frozen_s");
    if (!q.prepared()) return fail(failure(m_db, "prepare set frozen"));
    q.i64(1, account).i64(2, frozen_s);
    if (auto r = run(m_db, q, "set frozen"); !r) return fail(r.error());
    if (auto r = append_log_locked(log); !r) return fail(r.error());
    if (auto r = tx.commit(); !r) return fail(r.error());
    return {};
}

StoreResult<LogEntry> SqliteSafetyStore::append_log(const LogEntry& entry) {
    const std::lock_guard lock(m_mutex);
    return append_log_locked(entry);
}

StoreResult<LogEntry> SqliteSafetyStore::append_log_locked(const LogEntry& entry) {
    Query q(m_db, "INSERT INTO safety_admin_log (at_s, who, action, target, why) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!q.prepared()) return fail(failure(m_db, "prepare append log"));
    q.i64(1, entry.at_s).text(2, entry.who).text(3, entry.action).text(4, entry.target).text(5, entry.why);
    if (auto r = run(m_db, q, "append log"); !r) return fail(r.error());
    LogEntry out = entry;
    out.seq = sqlite3_last_insert_rowid(m_db);
    return out;
}

StoreResult<std::vector<LogEntry>> SqliteSafetyStore::log(std::int64_t after_seq, std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kLogColumns +
                      " FROM safety_admin_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare log"));
    q.i64(1, after_seq).i64(2, limit_to_db(limit));
    return collect<LogEntry>(m_db, q, read_log, "log");
}

StoreResult<std::vector<std::string>> SqliteSafetyStore::files_with_open_reports(Category category) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT DISTINCT file_id FROM safety_reports WHERE state = 'open' AND category = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare files with open reports"));
    q.text(1, category_name(category));
    return collect<std::string>(m_db, q, [](sqlite3_stmt* s) { return column_text(s, 0); },
                                "files with open reports");
}

StoreResult<TransparencyCounts> SqliteSafetyStore::transparency(std::int64_t since_s) {
    const std::lock_guard lock(m_mutex);
    // One read transaction: the counts are of one moment.
    Transaction tx(m_db);
    if (auto r = tx.begin(false); !r) return fail(r.error());
    TransparencyCounts out;
    out.since_s = since_s;
    struct Grouped {
        const char* sql;
        CategoryCounts* into;
    };
    const Grouped grouped[] = {
        {"SELECT category, count(*) FROM safety_reports WHERE created_s >= ?1 GROUP BY category", &out.reports},
        {"SELECT category, count(*) FROM safety_takedowns WHERE created_s >= ?1 GROUP BY category", &out.takedowns},
        {"SELECT category, count(*) FROM safety_takedowns WHERE restored_s > 0 AND restored_s >= ?1 "
         "GROUP BY category",
         &out.reinstatements},
        {"SELECT category, count(*) FROM safety_reports WHERE state = 'dismissed' AND resolved_s >= ?1 "
         "GROUP BY category",
         &out.dismissals},
    };
    using Row = std::pair<std::string, std::uint64_t>;
    const auto read_row = [](sqlite3_stmt* s) { return Row{column_text(s, 0), column_u64(s, 1)}; };
    for (const auto& g : grouped) {
        Query q(m_db, g.sql);
        if (!q.prepared()) return fail(failure(m_db, "prepare transparency"));
        q.i64(1, since_s);
        auto rows = collect<Row>(m_db, q, read_row, "transparency");
        if (!rows) return fail(rows.error());
        for (const auto& [name, count] : *rows) {
            if (const auto c = parse_category(name)) (*g.into)[static_cast<std::size_t>(*c)] += count;
        }
    }
    // Suspensions, freezes and claims are recorded only in the admin log.
    Query q(m_db,
            "SELECT action, count(*) FROM safety_admin_log WHERE at_s >= ?1 AND action IN "
            "('suspend', 'unsuspend', 'freeze', 'unfreeze', 'claim') GROUP BY action");
    if (!q.prepared()) return fail(failure(m_db, "prepare transparency log"));
    q.i64(1, since_s);
    auto rows = collect<Row>(m_db, q, read_row, "transparency log");
    if (!rows) return fail(rows.error());
    for (const auto& [action, count] : *rows) {
        if (action == "suspend") out.suspensions = count;
        if (action == "unsuspend") out.unsuspensions = count;
        if (action == "freeze") out.freezes = count;
        if (action == "unfreeze") out.unfreezes = count;
        // A claim is only ever upheld on a copyright report.
        if (action == "claim") out.claims[static_cast<std::size_t>(Category::copyright)] = count;
    }
    return out;
}

}  // namespace satload::safety
