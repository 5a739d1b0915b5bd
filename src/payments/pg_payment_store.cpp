// PgPaymentStore: payment attempts, referral codes, holds and redirects in PostgreSQL, one
// transaction per call. Text columns compare bytewise (COLLATE "C") so every ORDER BY matches
// SQLite's; inserts that another process may race use ON CONFLICT, never read-then-write.
#include "payments/pg_payment_store.h"

#include "core/check.h"
#include "payments/attempt_columns.h"

namespace satload::payments {
namespace {

using store::pg_first;
using store::pg_limit;
using store::pg_optional_bigint;
using store::pg_rows;
using store::pg_storable;
using store::pg_text;
using store::pg_unstorable;

// Step N (0-based) takes the payment tables from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: payment attempts with their holds, referral codes and earnings redirects (the tables
    // of SQLite's versions 1 and 2).
    R"sql(
CREATE TABLE payment_attempts (
    payer_account_id    BIGINT NOT NULL,
    file_id             TEXT COLLATE "C" NOT NULL,
    attempt_no          BIGINT NOT NULL CHECK (attempt_no >= 1),
    state               TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'granted', 'failed')),
    uploader_account_id BIGINT NOT NULL,
    referrer_account_id BIGINT,
    price_msat          BIGINT NOT NULL CHECK (price_msat > 0),
    uploader_msat       BIGINT NOT NULL CHECK (uploader_msat >= 0),
    referrer_msat       BIGINT NOT NULL CHECK (referrer_msat >= 0),
    platform_msat       BIGINT NOT NULL CHECK (platform_msat >= 0),
    created_s           BIGINT NOT NULL,
    expires_s           BIGINT NOT NULL,
    payee_account_id    BIGINT,
    held                BOOLEAN NOT NULL DEFAULT false,
    hold_outcome        TEXT COLLATE "C" NOT NULL DEFAULT ''
                        CHECK (hold_outcome IN ('', 'released', 'redirected')),
    settled_account_id  BIGINT,
    PRIMARY KEY (payer_account_id, file_id, attempt_no),
    CHECK (uploader_msat + referrer_msat + platform_msat = price_msat)
);
CREATE INDEX payment_attempts_by_uploader ON payment_attempts (uploader_account_id, state, file_id);
CREATE INDEX payment_attempts_by_referrer ON payment_attempts (referrer_account_id, state)
    WHERE referrer_account_id IS NOT NULL;
CREATE INDEX payment_attempts_unsettled ON payment_attempts (file_id, created_s)
    WHERE held AND hold_outcome = '';
CREATE TABLE payment_referral_codes (
    code       TEXT COLLATE "C" PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE
);
CREATE TABLE payment_redirects (
    file_id             TEXT COLLATE "C" PRIMARY KEY,
    claimant_account_id BIGINT NOT NULL,
    include_held        BOOLEAN NOT NULL,
    created_s           BIGINT NOT NULL
);
)sql",
};

// The insert's placeholders, in kAttemptColumns' order.
constexpr const char* kAttemptValues = "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

std::string state_name(AttemptState s) {
    switch (s) {
        case AttemptState::pending:
            return "pending";
        case AttemptState::granted:
            return "granted";
        case AttemptState::failed:
            return "failed";
    }
    return "failed";
}

AttemptState state_of(std::string_view s) {
    if (s == "pending") return AttemptState::pending;
    if (s == "granted") return AttemptState::granted;
    return AttemptState::failed;
}

std::string outcome_name(HoldOutcome o) {
    switch (o) {
        case HoldOutcome::none:
            return "";
        case HoldOutcome::released:
            return "released";
        case HoldOutcome::redirected:
            return "redirected";
    }
    return "";
}

HoldOutcome outcome_of(std::string_view s) {
    if (s == "released") return HoldOutcome::released;
    if (s == "redirected") return HoldOutcome::redirected;
    return HoldOutcome::none;
}

PaymentAttempt read_attempt(const pqxx::row& r) {
    PaymentAttempt a;
    a.payer = r[0].as<std::int64_t>();
    a.file_id = pg_text(r[1]);
    a.attempt_no = r[2].as<std::int64_t>();
    a.state = state_of(r[3].c_str());
    a.uploader = r[4].as<std::int64_t>();
    a.referrer = pg_optional_bigint(r[5]);
    a.price_msat = r[6].as<std::int64_t>();
    a.uploader_msat = r[7].as<std::int64_t>();
    a.referrer_msat = r[8].as<std::int64_t>();
    a.platform_msat = r[9].as<std::int64_t>();
    a.created_s = r[10].as<std::int64_t>();
    a.expires_s = r[11].as<std::int64_t>();
    a.payee = pg_optional_bigint(r[12]);
    a.held = r[13].as<bool>();
    a.hold_outcome = outcome_of(r[14].c_str());
    a.settled_to = pg_optional_bigint(r[15]);
    return a;
}

}  // namespace

StoreResult<std::unique_ptr<PgPaymentStore>> PgPaymentStore::open(std::shared_ptr<store::PgDb> db) {
    SATLOAD_ASSERT(db != nullptr);
    if (auto r = db->migrate(kPgPaymentComponent, kMigrations); !r) return fail(r.error());
    return std::unique_ptr<PgPaymentStore>(new PgPaymentStore(std::move(db)));
}

StoreResult<std::optional<PaymentAttempt>> PgPaymentStore::latest_attempt(
    AccountId payer, const std::string& file_id) {
    if (!pg_storable(file_id)) return std::optional<PaymentAttempt>();
    return m_db->read("latest attempt", [&](pqxx::nontransaction& n) {
        return pg_first(
            n.exec_params(std::string("SELECT ") + kAttemptColumns +
                              " FROM payment_attempts WHERE payer_account_id = $1 AND file_id = $2"
                              " ORDER BY attempt_no DESC LIMIT 1",
                          payer, file_id),
            read_attempt);
    });
}

StoreResult<void> PgPaymentStore::insert_attempt(const PaymentAttempt& a) {
    // ON CONFLICT DO NOTHING: the attempt another process recorded first stays as it is and
    // this one is told `exists` (without an error in the server's log). Committed without
    // waiting for the WAL flush: a payment's one sync is the ledger's commit (on the same
    // server, a later synced commit flushes this one too). A record a crash loses is rebuilt
    // from the ledger (see PaymentStore::record_recovered_attempt). A held attempt waits for
    // the flush: the sweep that settles holds finds its reservation only through this record,
    // and the ledger may be on another server.
    if (!pg_storable(a.file_id)) return fail(pg_unstorable("the attempt's file id"));
    return m_db->transact("insert attempt", [&a](pqxx::work& w) -> StoreResult<void> {
        if (!a.held) w.exec("SET LOCAL synchronous_commit = off");
        const auto r = w.exec_params(std::string("INSERT INTO payment_attempts (") + kAttemptColumns + ") VALUES " +
                                         kAttemptValues + " ON CONFLICT (payer_account_id, file_id, attempt_no) DO NOTHING",
                                     a.payer, a.file_id, a.attempt_no, state_name(a.state), a.uploader, a.referrer,
                                     a.price_msat, a.uploader_msat, a.referrer_msat, a.platform_msat, a.created_s,
                                     a.expires_s, a.payee, a.held, outcome_name(a.hold_outcome), a.settled_to);
        if (r.affected_rows() == 0)
            return fail(StoreFailure{StoreError::exists, "the attempt exists"});
        return {};
    });
}

StoreResult<void> PgPaymentStore::record_recovered_attempt(const PaymentAttempt& a) {
    if (!pg_storable(a.file_id)) return fail(pg_unstorable("the attempt's file id"));
    return m_db->transact("record recovered attempt", [&a](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            std::string("INSERT INTO payment_attempts (") + kAttemptColumns + ") VALUES " + kAttemptValues +
                " ON CONFLICT (payer_account_id, file_id, attempt_no) DO UPDATE SET " + kAttemptUpdate +
                " WHERE payment_attempts.state = 'pending'",
            a.payer, a.file_id, a.attempt_no, state_name(a.state), a.uploader, a.referrer, a.price_msat,
            a.uploader_msat, a.referrer_msat, a.platform_msat, a.created_s, a.expires_s, a.payee, a.held,
            outcome_name(a.hold_outcome), a.settled_to);
        if (r.affected_rows() == 0)
            return fail(StoreFailure{StoreError::not_found, "the attempt is not pending"});
        return {};
    });
}

StoreResult<void> PgPaymentStore::finish_attempt(AccountId payer, const std::string& file_id,
                                                 std::int64_t attempt_no, AttemptState state,
                                                 std::int64_t expires_s) {
    if (!pg_storable(file_id))
        return fail(StoreFailure{StoreError::not_found, "the attempt is not pending"});
    return m_db->transact("finish attempt", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            "UPDATE payment_attempts SET state = $4, expires_s = $5 WHERE payer_account_id = $1 "
            "AND "
            "file_id = $2 AND attempt_no = $3 AND state = 'pending'",
            payer, file_id, attempt_no, state_name(state), expires_s);
        if (r.affected_rows() == 0)
            return fail(StoreFailure{StoreError::not_found, "the attempt is not pending"});
        return {};
    });
}

StoreResult<std::vector<FileEarnings>> PgPaymentStore::earnings(AccountId uploader) {
    return m_db->transact("earnings", [uploader](pqxx::work& w) {
        const auto r = w.exec_params(
            "SELECT file_id, count(*), sum(price_msat), "
            // What reached the uploader: legs not redirected, and held legs only once released.
            "sum(CASE WHEN payee_account_id IS NULL AND (NOT held OR hold_outcome = 'released') "
            "THEN uploader_msat ELSE 0 END), "
            "sum(CASE WHEN held AND hold_outcome = '' THEN uploader_msat ELSE 0 END) "
            "FROM payment_attempts "
            "WHERE uploader_account_id = $1 AND state = 'granted' GROUP BY file_id ORDER BY "
            "file_id",
            uploader);
        return pg_rows(r, [](const pqxx::row& row) {
            return FileEarnings{pg_text(row[0]), row[1].as<std::uint64_t>(),
                                row[2].as<std::int64_t>(), row[3].as<std::int64_t>(),
                                row[4].as<std::int64_t>()};
        });
    });
}

StoreResult<ReferralEarnings> PgPaymentStore::referral_earnings(AccountId referrer) {
    return m_db->transact("referral earnings", [referrer](pqxx::work& w) {
        const auto r = w.exec_params(
            "SELECT count(*), coalesce(sum(referrer_msat), 0) FROM payment_attempts "
            "WHERE referrer_account_id = $1 AND state = 'granted'",
            referrer);
        return ReferralEarnings{r[0][0].as<std::uint64_t>(), r[0][1].as<std::int64_t>()};
    });
}

StoreResult<std::optional<std::string>> PgPaymentStore::referral_code(AccountId account) {
    return m_db->transact("referral code", [account](pqxx::work& w) -> std::optional<std::string> {
        const auto r =
            w.exec_params("SELECT code FROM payment_referral_codes WHERE account_id = $1", account);
        if (r.empty()) return std::nullopt;
        return std::string(r[0][0].c_str());
    });
}

StoreResult<void> PgPaymentStore::set_referral_code(AccountId account, const std::string& code) {
    // Either uniqueness (the code, or the account's one code) taken: `exists`.
    if (!pg_storable(code)) return fail(pg_unstorable("the referral code"));
    return m_db->transact("set referral code", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            "INSERT INTO payment_referral_codes (code, account_id) VALUES ($1, $2) ON CONFLICT DO "
            "NOTHING",
            code, account);
        if (r.affected_rows() == 0) {
            return fail(StoreFailure{StoreError::exists, "the code or the account's code exists"});
        }
        return {};
    });
}

StoreResult<std::optional<AccountId>> PgPaymentStore::referral_owner(const std::string& code) {
    if (!pg_storable(code)) return std::optional<AccountId>();
    return m_db->read("referral owner", [&code](pqxx::nontransaction& n) {
        return pg_first(
            n.exec_params("SELECT account_id FROM payment_referral_codes WHERE code = $1", code),
            [](const pqxx::row& r) { return r[0].as<AccountId>(); });
    });
}

StoreResult<std::vector<PaymentAttempt>> PgPaymentStore::unsettled_holds(
    const std::string& file_id, std::size_t limit, std::optional<HoldCursor> after) {
    if (!pg_storable(file_id)) return std::vector<PaymentAttempt>();
    return m_db->transact("unsettled holds", [&](pqxx::work& w) {
        // The cursor's first field NULL: from the start.
        const auto r = w.exec_params(
            std::string("SELECT ") + kAttemptColumns +
                " FROM payment_attempts WHERE file_id = $1 AND held AND hold_outcome = '' AND "
                "state IN ('granted', 'pending') AND ($3::BIGINT IS NULL OR (created_s, "
                "payer_account_id, attempt_no) > ($3::BIGINT, $4::BIGINT, $5::BIGINT)) "
                "ORDER BY created_s, payer_account_id, attempt_no LIMIT $2",
            file_id, pg_limit(limit),
            after ? std::optional(after->created_s) : std::optional<std::int64_t>(),
            after ? std::optional<std::int64_t>(after->payer) : std::optional<std::int64_t>(),
            after ? std::optional(after->attempt_no) : std::optional<std::int64_t>());
        return pg_rows(r, read_attempt);
    });
}

StoreResult<std::vector<std::string>> PgPaymentStore::files_with_unsettled_holds(
    std::size_t limit, const std::string& after_file) {
    if (!pg_storable(after_file)) return std::vector<std::string>();
    return m_db->transact("files with holds", [limit, &after_file](pqxx::work& w) {
        const auto r = w.exec_params(
            "SELECT DISTINCT file_id FROM payment_attempts WHERE held AND hold_outcome = '' AND "
            "state IN ('granted', 'pending') AND file_id > $2 ORDER BY file_id LIMIT $1",
            pg_limit(limit), after_file);
        return pg_rows(r, [](const pqxx::row& row) { return pg_text(row[0]); });
    });
}

StoreResult<void> PgPaymentStore::settle_hold(AccountId payer, const std::string& file_id,
                                              std::int64_t attempt_no, HoldOutcome outcome,
                                              AccountId settled_to) {
    if (!pg_storable(file_id))
        return fail(StoreFailure{StoreError::not_found, "the attempt is not held"});
    return m_db->transact("settle hold", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            "UPDATE payment_attempts SET hold_outcome = $4, settled_account_id = $5 WHERE "
            "payer_account_id = $1 "
            "AND file_id = $2 AND attempt_no = $3 AND held AND hold_outcome = ''",
            payer, file_id, attempt_no, outcome_name(outcome), settled_to);
        if (r.affected_rows() == 0)
            return fail(StoreFailure{StoreError::not_found, "the attempt is not held"});
        return {};
    });
}

StoreResult<std::optional<EarningsRedirect>> PgPaymentStore::redirect_of(
    const std::string& file_id) {
    if (!pg_storable(file_id)) return std::optional<EarningsRedirect>();
    return m_db->read("redirect", [&file_id](pqxx::nontransaction& n) {
        return pg_first(
            n.exec_params("SELECT file_id, claimant_account_id, include_held, created_s "
                          "FROM payment_redirects WHERE file_id = $1",
                          file_id),
            [](const pqxx::row& r) {
                return EarningsRedirect{pg_text(r[0]), r[1].as<std::int64_t>(), r[2].as<bool>(),
                                        r[3].as<std::int64_t>()};
            });
    });
}

StoreResult<void> PgPaymentStore::set_redirect(const EarningsRedirect& d) {
    // Set again: replaced, as SQLite's INSERT OR REPLACE.
    if (!pg_storable(d.file_id)) return fail(pg_unstorable("the redirect's file id"));
    return m_db->transact("set redirect", [&d](pqxx::work& w) {
        w.exec_params(
            "INSERT INTO payment_redirects (file_id, claimant_account_id, include_held, created_s) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (file_id) DO UPDATE SET "
            "claimant_account_id = excluded.claimant_account_id, include_held = "
            "excluded.include_held, "
            "created_s = excluded.created_s",
            d.file_id, d.claimant, d.include_held, d.created_s);
    });
}

}  // namespace satload::payments
