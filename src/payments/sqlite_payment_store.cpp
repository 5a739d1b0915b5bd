// SqlitePaymentStore: payment attempts and referral codes in SQLite, one transaction per call.
#include "payments/sqlite_payment_store.h"

#include "payments/attempt_columns.h"
#include "store/sqlite_db.h"

namespace satload::payments {
namespace {

using namespace store::sqlite;
constexpr std::string_view kVersionTable = "payment_schema_version";

// Migration N (1-based) takes the payment schema from N-1 to N. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: payment attempts and referral codes.
    R"sql(
CREATE TABLE payment_attempts (
    payer_account_id    INTEGER NOT NULL,
    file_id             TEXT NOT NULL,
    attempt_no          INTEGER NOT NULL CHECK (attempt_no >= 1),
    state               TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'failed')),
    uploader_account_id INTEGER NOT NULL,
    referrer_account_id INTEGER,
    price_msat          INTEGER NOT NULL CHECK (price_msat > 0),
    uploader_msat       INTEGER NOT NULL CHECK (uploader_msat >= 0),
    referrer_msat       INTEGER NOT NULL CHECK (referrer_msat >= 0),
    platform_msat       INTEGER NOT NULL CHECK (platform_msat >= 0),
    created_s           INTEGER NOT NULL,
    expires_s           INTEGER NOT NULL,
    PRIMARY KEY (payer_account_id, file_id, attempt_no),
    CHECK (uploader_msat + referrer_msat + platform_msat = price_msat)
) STRICT;
CREATE INDEX payment_attempts_by_uploader ON payment_attempts (uploader_account_id, state, file_id);
CREATE INDEX payment_attempts_by_referrer ON payment_attempts (referrer_account_id, state)
    WHERE referrer_account_id IS NOT NULL;
CREATE TABLE payment_referral_codes (
    code       TEXT PRIMARY KEY NOT NULL,
    account_id INTEGER NOT NULL UNIQUE
) STRICT;
)sql",
    // 2: held earnings (the uploader leg a pending ledger transfer until settled) and the
    // redirects of upheld rights-holder claims.
    R"sql(
ALTER TABLE payment_attempts ADD COLUMN payee_account_id INTEGER;
ALTER TABLE payment_attempts ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
ALTER TABLE payment_attempts ADD COLUMN hold_outcome TEXT NOT NULL DEFAULT ''
    CHECK (hold_outcome IN ('', 'released', 'redirected'));
ALTER TABLE payment_attempts ADD COLUMN settled_account_id INTEGER;
CREATE INDEX payment_attempts_unsettled ON payment_attempts (file_id, created_s)
    WHERE held = 1 AND hold_outcome = '';
CREATE TABLE payment_redirects (
    file_id              TEXT PRIMARY KEY NOT NULL,
    claimant_account_id  INTEGER NOT NULL,
    include_held         INTEGER NOT NULL CHECK (include_held IN (0, 1)),
    created_s            INTEGER NOT NULL
) STRICT;
)sql",
};

// The insert's placeholders, in kAttemptColumns' order.
constexpr const char* kAttemptValues = "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

const char* state_text(AttemptState s) {
    switch (s) {
        case AttemptState::pending: return "pending";
        case AttemptState::granted: return "granted";
        case AttemptState::failed: return "failed";
    }
    return "failed";
}

const char* outcome_text(HoldOutcome o) {
    switch (o) {
        case HoldOutcome::none: return "";
        case HoldOutcome::released: return "released";
        case HoldOutcome::redirected: return "redirected";
    }
    return "";
}

HoldOutcome parse_outcome(const std::string& s) {
    if (s == "released") return HoldOutcome::released;
    if (s == "redirected") return HoldOutcome::redirected;
    return HoldOutcome::none;
}

std::optional<std::int64_t> optional_i64(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(s, i);
}

AttemptState parse_state(const std::string& s) {
    if (s == "pending") return AttemptState::pending;
    if (s == "granted") return AttemptState::granted;
    return AttemptState::failed;
}

// Binds the attempt to kAttemptValues' parameters, in kAttemptColumns' order.
void bind_attempt(Query& q, const PaymentAttempt& a) {
    const auto bind_optional = [&q](int i, const std::optional<AccountId>& v) {
        if (v) {
            q.i64(i, *v);
        } else {
            q.null(i);
        }
    };
    q.i64(1, a.payer).text(2, a.file_id).i64(3, a.attempt_no).text(4, state_text(a.state)).i64(5, a.uploader);
    bind_optional(6, a.referrer);
    q.i64(7, a.price_msat).i64(8, a.uploader_msat).i64(9, a.referrer_msat).i64(10, a.platform_msat);
    q.i64(11, a.created_s).i64(12, a.expires_s);
    bind_optional(13, a.payee);
    q.i64(14, a.held ? 1 : 0).text(15, outcome_text(a.hold_outcome));
    bind_optional(16, a.settled_to);
}

PaymentAttempt read_attempt(sqlite3_stmt* s) {
    PaymentAttempt a;
    a.payer = sqlite3_column_int64(s, 0);
    a.file_id = column_text(s, 1);
    a.attempt_no = sqlite3_column_int64(s, 2);
    a.state = parse_state(column_text(s, 3));
    a.uploader = sqlite3_column_int64(s, 4);
    a.referrer = optional_i64(s, 5);
    a.price_msat = sqlite3_column_int64(s, 6);
    a.uploader_msat = sqlite3_column_int64(s, 7);
    a.referrer_msat = sqlite3_column_int64(s, 8);
    a.platform_msat = sqlite3_column_int64(s, 9);
    a.created_s = sqlite3_column_int64(s, 10);
    a.expires_s = sqlite3_column_int64(s, 11);
    a.payee = optional_i64(s, 12);
    a.held = sqlite3_column_int64(s, 13) != 0;
    a.hold_outcome = parse_outcome(column_text(s, 14));
    a.settled_to = optional_i64(s, 15);
    return a;
}

}  // namespace

SqlitePaymentStore::SqlitePaymentStore(sqlite3* db, sqlite3* read_db) : m_db(db), m_read_db(read_db) {}
SqlitePaymentStore::~SqlitePaymentStore() {
    store::sqlite::close_database(m_read_db);
    store::sqlite::close_database(m_db);
}

StoreResult<std::unique_ptr<SqlitePaymentStore>> SqlitePaymentStore::open(const std::filesystem::path& db_file) {
    auto db = open_database(db_file, kSqlitePaymentBusyTimeoutMs);
    if (!db) return fail(db.error());
    if (auto r = migrate(db->get(), kVersionTable, kMigrations); !r) return fail(r.error());
    auto read_db = open_database(db_file, kSqlitePaymentBusyTimeoutMs);
    if (!read_db) return fail(read_db.error());
    if (auto r = exec(read_db->get(), "PRAGMA query_only=ON", "read connection"); !r) return fail(r.error());
    return std::unique_ptr<SqlitePaymentStore>(new SqlitePaymentStore(db->release(), read_db->release()));
}

StoreResult<std::optional<PaymentAttempt>> SqlitePaymentStore::latest_attempt(AccountId payer,
                                                                               const std::string& file_id) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db, std::string("SELECT ") + kAttemptColumns +
                      " FROM payment_attempts WHERE payer_account_id = ?1 AND file_id = ?2"
                      " ORDER BY attempt_no DESC LIMIT 1");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare latest attempt"));
    q.i64(1, payer).text(2, file_id);
    return first<PaymentAttempt>(m_read_db, q, read_attempt, "latest attempt");
}

StoreResult<void> SqlitePaymentStore::insert_attempt(const PaymentAttempt& a) {
    const auto write = [&a](sqlite3* db) -> StoreResult<void> {
        Query q(db, std::string("INSERT INTO payment_attempts (") + kAttemptColumns + ") VALUES " + kAttemptValues);
        if (!q.prepared()) return fail(failure(db, "prepare insert attempt"));
        bind_attempt(q, a);
        if (auto r = run(db, q, "insert attempt"); !r) return fail(r.error());
        return {};
    };
    // A held attempt is synced (group-committed) before its ledger group: the sweep that
    // settles holds finds the group's reservation only through this record, which a crash of
    // the machine must therefore not lose. Held payments are rare (a file under report).
    if (a.held) return m_writes.run(write);
    // Unsynced: a payment's one sync is the ledger's commit. A crash that loses this record
    // after the ledger applied the payment leaves the number free; the retry builds the same
    // number (the same payment id), the ledger answers that it holds it, and the paywall
    // records what the ledger applied (record_recovered_attempt): never charged twice.
    return m_writes.run_unsynced(write);
}

StoreResult<void> SqlitePaymentStore::insert_attempts(std::span<const PaymentAttempt> attempts) {
    // Unsynced as insert_attempt.
    return m_writes.run_unsynced([attempts](sqlite3* db) -> StoreResult<void> {
        const std::string sql = std::string("INSERT INTO payment_attempts (") + kAttemptColumns + ") VALUES " +
                                kAttemptValues + " ON CONFLICT (payer_account_id, file_id, attempt_no) DO NOTHING";
        for (const auto& a : attempts) {
            Query q(db, sql);
            if (!q.prepared()) return fail(failure(db, "prepare insert attempts"));
            bind_attempt(q, a);
            if (auto r = run(db, q, "insert attempts"); !r) return fail(r.error());
        }
        return {};
    });
}

StoreResult<void> SqlitePaymentStore::record_recovered_attempt(const PaymentAttempt& a) {
    // Unsynced as finish_attempt: a lost record is rebuilt from the ledger again.
    return m_writes.run_unsynced([&a](sqlite3* db) -> StoreResult<void> {
        Query q(db, std::string("INSERT INTO payment_attempts (") + kAttemptColumns + ") VALUES " + kAttemptValues +
                        " ON CONFLICT (payer_account_id, file_id, attempt_no) DO UPDATE SET " + kAttemptUpdate +
                        " WHERE payment_attempts.state = 'pending'");
        if (!q.prepared()) return fail(failure(db, "prepare record recovered attempt"));
        bind_attempt(q, a);
        auto changed = run(db, q, "record recovered attempt");
        if (!changed) return fail(changed.error());
        if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "the attempt is not pending"});
        return {};
    });
}

StoreResult<void> SqlitePaymentStore::finish_attempt(AccountId payer, const std::string& file_id,
                                                     std::int64_t attempt_no, AttemptState state,
                                                     std::int64_t expires_s) {
    // Unsynced: an outcome lost in a crash leaves the attempt pending, and the next request
    // for it settles the same payment id again, which the ledger (durable before this) answers
    // with what it already applied. Nothing is charged twice and no grant is lost.
    return m_writes.run_unsynced([&](sqlite3* db) -> StoreResult<void> {
        Query q(db,
                "UPDATE payment_attempts SET state = ?4, expires_s = ?5 WHERE payer_account_id = ?1 AND "
                "file_id = ?2 AND attempt_no = ?3 AND state = 'pending'");
        if (!q.prepared()) return fail(failure(db, "prepare finish attempt"));
        q.i64(1, payer).text(2, file_id).i64(3, attempt_no).text(4, state_text(state)).i64(5, expires_s);
        auto changed = run(db, q, "finish attempt");
        if (!changed) return fail(changed.error());
        if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "the attempt is not pending"});
        return {};
    });
}

StoreResult<std::vector<FileEarnings>> SqlitePaymentStore::earnings(AccountId uploader) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db,
            "SELECT file_id, count(*), sum(price_msat), "
            // What reached the uploader: legs not redirected, and held legs only once released.
            "sum(CASE WHEN payee_account_id IS NULL AND (held = 0 OR hold_outcome = 'released') "
            "THEN uploader_msat ELSE 0 END), "
            "sum(CASE WHEN held = 1 AND hold_outcome = '' THEN uploader_msat ELSE 0 END) "
            "FROM payment_attempts "
            "WHERE uploader_account_id = ?1 AND state = 'granted' GROUP BY file_id ORDER BY file_id");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare earnings"));
    q.i64(1, uploader);
    return collect<FileEarnings>(
        m_read_db, q,
        [](sqlite3_stmt* s) {
            return FileEarnings{column_text(s, 0), column_u64(s, 1), sqlite3_column_int64(s, 2),
                                sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)};
        },
        "earnings");
}

StoreResult<ReferralEarnings> SqlitePaymentStore::referral_earnings(AccountId referrer) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db,
            "SELECT count(*), coalesce(sum(referrer_msat), 0) FROM payment_attempts "
            "WHERE referrer_account_id = ?1 AND state = 'granted'");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare referral earnings"));
    q.i64(1, referrer);
    auto row = first<ReferralEarnings>(
        m_read_db, q, [](sqlite3_stmt* s) { return ReferralEarnings{column_u64(s, 0), sqlite3_column_int64(s, 1)}; },
        "referral earnings");
    if (!row) return fail(row.error());
    return row->value_or(ReferralEarnings{});
}

StoreResult<std::optional<std::string>> SqlitePaymentStore::referral_code(AccountId account) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db, "SELECT code FROM payment_referral_codes WHERE account_id = ?1");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare referral code"));
    q.i64(1, account);
    return first<std::string>(m_read_db, q, [](sqlite3_stmt* s) { return column_text(s, 0); }, "referral code");
}

StoreResult<void> SqlitePaymentStore::set_referral_code(AccountId account, const std::string& code) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "INSERT INTO payment_referral_codes (code, account_id) VALUES (?1, ?2)");
    if (!q.prepared()) return fail(failure(m_db, "prepare set referral code"));
    q.text(1, code).i64(2, account);
    if (auto r = run(m_db, q, "set referral code"); !r) return fail(r.error());
    return {};
}

StoreResult<std::optional<AccountId>> SqlitePaymentStore::referral_owner(const std::string& code) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db, "SELECT account_id FROM payment_referral_codes WHERE code = ?1");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare referral owner"));
    q.text(1, code);
    return first<AccountId>(m_read_db, q, [](sqlite3_stmt* s) { return sqlite3_column_int64(s, 0); },
                            "referral owner");
}

StoreResult<std::vector<PaymentAttempt>> SqlitePaymentStore::unsettled_holds(
    const std::string& file_id, std::size_t limit, std::optional<HoldCursor> after) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db,
            std::string("SELECT ") + kAttemptColumns +
                " FROM payment_attempts WHERE file_id = ?1 AND held = 1 AND hold_outcome = '' AND "
                "state IN ('granted', 'pending') AND (?3 IS NULL OR (created_s, payer_account_id, "
                "attempt_no) > "
                "(?3, ?4, ?5)) ORDER BY created_s, payer_account_id, attempt_no LIMIT ?2");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare unsettled holds"));
    q.text(1, file_id).i64(2, static_cast<std::int64_t>(limit));
    if (after) {
        q.i64(3, after->created_s).i64(4, after->payer).i64(5, after->attempt_no);
    } else {
        q.null(3).null(4).null(5);
    }
    return collect<PaymentAttempt>(m_read_db, q, read_attempt, "unsettled holds");
}

StoreResult<std::vector<std::string>> SqlitePaymentStore::files_with_unsettled_holds(
    std::size_t limit, const std::string& after_file) {
    const std::lock_guard lock(m_read_mutex);
    Query q(
        m_read_db,
        "SELECT DISTINCT file_id FROM payment_attempts WHERE held = 1 AND hold_outcome = '' AND "
        "state IN ('granted', 'pending') AND file_id > ?2 ORDER BY file_id LIMIT ?1");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare files with holds"));
    q.i64(1, static_cast<std::int64_t>(limit)).text(2, after_file);
    return collect<std::string>(m_read_db, q, [](sqlite3_stmt* s) { return column_text(s, 0); }, "files with holds");
}

StoreResult<void> SqlitePaymentStore::settle_hold(AccountId payer, const std::string& file_id,
                                                  std::int64_t attempt_no, HoldOutcome outcome,
                                                  AccountId settled_to) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE payment_attempts SET hold_outcome = ?4, settled_account_id = ?5 WHERE payer_account_id = ?1 "
            "AND file_id = ?2 AND attempt_no = ?3 AND held = 1 AND hold_outcome = ''");
    if (!q.prepared()) return fail(failure(m_db, "prepare settle hold"));
    q.i64(1, payer).text(2, file_id).i64(3, attempt_no).text(4, outcome_text(outcome)).i64(5, settled_to);
    auto changed = run(m_db, q, "settle hold");
    if (!changed) return fail(changed.error());
    if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "the attempt is not held"});
    return {};
}

StoreResult<std::optional<EarningsRedirect>> SqlitePaymentStore::redirect_of(const std::string& file_id) {
    const std::lock_guard lock(m_read_mutex);
    Query q(m_read_db,
            "SELECT file_id, claimant_account_id, include_held, created_s FROM payment_redirects WHERE file_id = ?1");
    if (!q.prepared()) return fail(failure(m_read_db, "prepare redirect"));
    q.text(1, file_id);
    return first<EarningsRedirect>(
        m_read_db, q,
        [](sqlite3_stmt* s) {
            return EarningsRedirect{column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2) != 0,
                                    sqlite3_column_int64(s, 3)};
        },
        "redirect");
}

StoreResult<void> SqlitePaymentStore::set_redirect(const EarningsRedirect& r) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "INSERT OR REPLACE INTO payment_redirects (file_id, claimant_account_id, include_held, created_s) "
            "VALUES (?1, ?2, ?3, ?4)");
    if (!q.prepared()) return fail(failure(m_db, "prepare set redirect"));
    q.text(1, r.file_id).i64(2, r.claimant).i64(3, r.include_held ? 1 : 0).i64(4, r.created_s);
    if (auto res = run(m_db, q, "set redirect"); !res) return fail(res.error());
    return {};
}

}  // namespace satload::payments
