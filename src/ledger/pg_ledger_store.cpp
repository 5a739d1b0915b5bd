// PgLedgerStore: the journal and account totals in PostgreSQL. A batch travels as one
// INSERT ... SELECT FROM unnest(arrays) per table, so a commit is a few round trips whatever
// its size. Byte columns cross the wire as hex text, which needs no escaping.
#include "ledger/pg_ledger_store.h"

#include <pqxx/pqxx>

#include <chrono>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/check.h"

namespace satload::ledger {
namespace {

// Rows per page when the audit streams the journal.
constexpr std::size_t kScanPageRows = 20'000;
// A writer waits this long for the journal's lock (another process's batch) before its batch
// fails; a process that dies releases the lock with its session.
constexpr std::string_view kJournalLockTimeout = "30s";

constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE ledger_accounts (
    id              BYTEA PRIMARY KEY CHECK (length(id) = 16),
    kind            SMALLINT NOT NULL,
    flags           INTEGER NOT NULL,
    owner           BYTEA NOT NULL,
    debits_pending  BIGINT NOT NULL,
    debits_posted   BIGINT NOT NULL,
    credits_pending BIGINT NOT NULL,
    credits_posted  BIGINT NOT NULL,
    timestamp_ns    BIGINT NOT NULL,
    last_seq        BIGINT NOT NULL,
    created_seq     BIGINT NOT NULL UNIQUE
);
CREATE TABLE ledger_journal (
    seq          BIGINT PRIMARY KEY,
    kind         SMALLINT NOT NULL,
    id           BYTEA NOT NULL,
    debit_id     BYTEA,
    credit_id    BYTEA,
    debit_prev   BIGINT NOT NULL,
    credit_prev  BIGINT NOT NULL,
    pending_id   BYTEA,
    user_data    BYTEA,
    amount       BIGINT NOT NULL,
    timeout_s    BIGINT NOT NULL,
    code         INTEGER NOT NULL,
    flags        INTEGER NOT NULL,
    result       SMALLINT NOT NULL,
    timestamp_ns BIGINT NOT NULL,
    memo         BYTEA NOT NULL,
    hash         BYTEA NOT NULL
);
CREATE UNIQUE INDEX ledger_journal_transfer_id ON ledger_journal (id) WHERE kind IN (2, 3);
CREATE INDEX ledger_journal_resolution ON ledger_journal (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_journal_pendings ON ledger_journal (seq) WHERE kind = 2 AND (flags & 2) <> 0;
)sql",
};
static_assert(std::size(kMigrations) == kPgLedgerSchemaVersion);

constexpr const char* kEntryColumns =
    "seq, kind, encode(id, 'hex'), encode(debit_id, 'hex'), encode(credit_id, 'hex'), debit_prev, "
    "credit_prev, encode(pending_id, 'hex'), encode(user_data, 'hex'), amount, timeout_s, code, flags, result, "
    "timestamp_ns, encode(memo, 'hex'), encode(hash, 'hex')";
constexpr const char* kAccountColumns =
    "encode(id, 'hex'), kind, flags, encode(owner, 'hex'), debits_pending, debits_posted, "
    "credits_pending, credits_posted, timestamp_ns, last_seq, created_seq";

bool valid_schema_name(const std::string& s) {
    if (s.empty() || s.size() > kPgSchemaNameBytesMax) return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

StoreFailure io(std::string_view what, const std::exception& e) {
    return StoreFailure{StoreError::io, std::string(what) + ": " + e.what()};
}

// A PostgreSQL array literal of scalars: hex strings and integers need no quoting; the empty
// string does, and a zero id is NULL.
class ArrayText {
public:
    void add_int(std::int64_t v) { add(std::to_string(v)); }
    void add_bytes(ByteSpan b) { add(b.empty() ? std::string("\"\"") : hex_encode(b)); }
    void add_text(const std::string& s) { add_bytes(as_bytes(s)); }
    void add_id(Id128 id) {
        if (id.is_zero()) {
            add("NULL");
        } else {
            const IdBytes b = id_bytes(id);
            add(hex_encode(b));
        }
    }
    std::string finish() {
        m_text += '}';
        return std::move(m_text);
    }

private:
    void add(const std::string& v) {
        if (m_text.size() > 1) m_text += ',';
        m_text += v;
    }
    std::string m_text = "{";
};

bool field_id(const pqxx::field& f, Id128& out) {
    if (f.is_null()) {
        out = Id128{};
        return true;
    }
    const auto bytes = hex_decode(f.c_str());
    if (!bytes || bytes->size() != kIdBytes) return false;
    out = id_from_bytes(*bytes);
    return !out.is_zero();
}

bool field_bytes(const pqxx::field& f, std::string& out) {
    const auto bytes = hex_decode(f.c_str());
    if (!bytes) return false;
    out.assign(bytes->begin(), bytes->end());
    return true;
}

template <class T>
bool field_small(const pqxx::field& f, T& out) {
    static_assert(std::is_unsigned_v<T>);
    const auto v = f.as<std::int64_t>();
    if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(v);
    return true;
}

StoreResult<JournalEntry> read_entry(const pqxx::row& r) {
    JournalEntry e;
    e.seq = r[0].as<std::int64_t>();
    const auto bad = [&](std::string_view what) {
        return fail(StoreFailure{StoreError::corrupt,
                                 std::string(what) + " in journal entry " + std::to_string(e.seq)});
    };
    std::uint8_t kind = 0;
    if (!field_small(r[1], kind) || kind < 1 || kind > 4) return bad("bad kind");
    e.kind = static_cast<EntryKind>(kind);
    if (!field_id(r[2], e.id) || e.id.is_zero()) return bad("bad id");
    if (!field_id(r[3], e.debit_account_id) || !field_id(r[4], e.credit_account_id) ||
        !field_id(r[7], e.pending_id) || !field_id(r[8], e.user_data)) {
        return bad("bad id column");
    }
    e.debit_prev_seq = r[5].as<std::int64_t>();
    e.credit_prev_seq = r[6].as<std::int64_t>();
    e.amount_msat = r[9].as<std::int64_t>();
    if (!field_small(r[10], e.timeout_s) || !field_small(r[11], e.code) ||
        !field_small(r[12], e.flags) || !field_small(r[13], e.result)) {
        return bad("field out of range");
    }
    e.timestamp_ns = r[14].as<std::int64_t>();
    if (!field_bytes(r[15], e.memo) || e.memo.size() > 0xffff) return bad("bad memo");
    const auto hash = hex_decode(r[16].c_str());
    if (!hash || hash->size() != e.hash.size()) return bad("bad hash length");
    std::copy(hash->begin(), hash->end(), e.hash.begin());
    return e;
}

StoreResult<Account> read_account(const pqxx::row& r) {
    Account a;
    std::uint16_t kind = 0;
    if (!field_id(r[0], a.id) || a.id.is_zero() || !field_small(r[1], kind) || kind == 0 ||
        kind > kAccountKindMax || !field_small(r[2], a.flags) || !field_bytes(r[3], a.owner)) {
        return fail(StoreFailure{StoreError::corrupt, "account row " + std::string(r[0].c_str()) +
                                                          " does not decode"});
    }
    a.kind = static_cast<AccountKind>(kind);
    a.debits_pending_msat = r[4].as<std::int64_t>();
    a.debits_posted_msat = r[5].as<std::int64_t>();
    a.credits_pending_msat = r[6].as<std::int64_t>();
    a.credits_posted_msat = r[7].as<std::int64_t>();
    a.timestamp_ns = r[8].as<std::int64_t>();
    a.last_entry_seq = r[9].as<std::int64_t>();
    a.created_seq = r[10].as<std::int64_t>();
    if (validate_account(a) != CreateAccountResult::ok) {
        return fail(StoreFailure{StoreError::corrupt, "account " + id_hex(a.id) + " is invalid"});
    }
    return a;
}

std::string ids_array(std::span<const Id128> ids) {
    ArrayText a;
    for (const Id128& id : ids) a.add_id(id);
    return a.finish();
}

}  // namespace

struct PgLedgerStore::Impl {
    std::string url;
    std::string schema;
    std::unique_ptr<pqxx::connection> write_conn;
    std::unique_ptr<pqxx::connection> read_conn;
    std::mutex read_mutex;

    static std::unique_ptr<pqxx::connection> connect(const std::string& url, const std::string& schema) {
        auto c = std::make_unique<pqxx::connection>(url);
        pqxx::nontransaction n(*c);
        // Durable at commit whatever the server's default, and our tables first.
        n.exec("SET synchronous_commit TO on");
        n.exec("SET search_path TO " + schema);
        return c;
    }

    void prepare_statements() {
        const std::string cols = kEntryColumns;
        write_conn->prepare(
            "insert_entries",
            "INSERT INTO ledger_journal (seq, kind, id, debit_id, credit_id, debit_prev, credit_prev, "
            "pending_id, user_data, amount, timeout_s, code, flags, result, timestamp_ns, memo, hash) "
            "SELECT seq, kind, decode(id, 'hex'), decode(debit_id, 'hex'), decode(credit_id, 'hex'), "
            "debit_prev, credit_prev, decode(pending_id, 'hex'), decode(user_data, 'hex'), amount, "
            "timeout_s, code, flags, result, timestamp_ns, decode(memo, 'hex'), decode(hash, 'hex') "
            "FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[], $5::text[], "
            "$6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], "
            "$12::integer[], $13::integer[], $14::smallint[], $15::bigint[], $16::text[], $17::text[]) "
            "AS u(seq, kind, id, debit_id, credit_id, debit_prev, credit_prev, pending_id, user_data, "
            "amount, timeout_s, code, flags, result, timestamp_ns, memo, hash)");
        write_conn->prepare(
            "upsert_accounts",
            "INSERT INTO ledger_accounts (id, kind, flags, owner, debits_pending, debits_posted, "
            "credits_pending, credits_posted, timestamp_ns, last_seq, created_seq) "
            "SELECT decode(id, 'hex'), kind, flags, decode(owner, 'hex'), dp, dpo, cp, cpo, ts, ls, cs "
            "FROM unnest($1::text[], $2::smallint[], $3::integer[], $4::text[], $5::bigint[], "
            "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[]) "
            "AS u(id, kind, flags, owner, dp, dpo, cp, cpo, ts, ls, cs) "
            "ON CONFLICT (id) DO UPDATE SET debits_pending = excluded.debits_pending, "
            "debits_posted = excluded.debits_posted, credits_pending = excluded.credits_pending, "
            "credits_posted = excluded.credits_posted, last_seq = excluded.last_seq");
        write_conn->prepare("find_transfers",
                            "SELECT " + cols +
                                " FROM ledger_journal WHERE kind IN (2, 3) AND id IN "
                                "(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)");
        write_conn->prepare("find_resolutions",
                            "SELECT encode(pending_id, 'hex'), kind, flags FROM ledger_journal "
                            "WHERE kind IN (2, 4) AND pending_id IN "
                            "(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)");
    }

    // The advisory lock that serializes the writers of this schema's journal.
    [[nodiscard]] std::string lock_name() const { return "satload-ledger:" + schema; }

    StoreResult<void> migrate() {
        try {
            pqxx::work w(*write_conn);
            // Processes that start together migrate one after the other.
            w.exec("SELECT pg_advisory_xact_lock(hashtext(" + w.quote(lock_name()) + "))");
            w.exec("CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL)");
            const auto r = w.exec("SELECT coalesce(max(version), 0) FROM ledger_schema");
            const int version = r[0][0].as<int>();
            if (version > kPgLedgerSchemaVersion) {
                return fail(StoreFailure{StoreError::io, "ledger schema version " +
                                                             std::to_string(version) +
                                                             " is newer than this program"});
            }
            for (int v = version; v < kPgLedgerSchemaVersion; ++v) {
                w.exec(std::string(kMigrations[v]));
                w.exec("INSERT INTO ledger_schema VALUES (" + std::to_string(v + 1) + ")");
            }
            w.commit();
        } catch (const std::exception& e) {
            return fail(io("migrate", e));
        }
        return {};
    }
};

PgLedgerStore::PgLedgerStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
PgLedgerStore::~PgLedgerStore() = default;

StoreResult<std::unique_ptr<PgLedgerStore>> PgLedgerStore::open(const std::string& url,
                                                                const std::string& schema) {
    if (!valid_schema_name(schema)) {
        return fail(StoreFailure{StoreError::io, "invalid schema name '" + schema + "'"});
    }
    auto impl = std::make_unique<Impl>();
    impl->url = url;
    impl->schema = schema;
    try {
        {
            pqxx::connection setup(url);
            pqxx::nontransaction n(setup);
            try {
                n.exec("CREATE SCHEMA IF NOT EXISTS " + schema);
            } catch (const pqxx::unique_violation&) {
                // Another process created it at the same moment.
            }
        }
        impl->write_conn = Impl::connect(url, schema);
        {
            pqxx::nontransaction n(*impl->write_conn);
            n.exec("SET lock_timeout TO '" + std::string(kJournalLockTimeout) + "'");
        }
        if (auto m = impl->migrate(); !m) return fail(m.error());
        impl->prepare_statements();
        impl->read_conn = Impl::connect(url, schema);
    } catch (const std::exception& e) {
        return fail(io("connect", e));
    }
    return std::unique_ptr<PgLedgerStore>(new PgLedgerStore(std::move(impl)));
}

StoreResult<void> PgLedgerStore::drop_schema(const std::string& url, const std::string& schema) {
    if (!valid_schema_name(schema)) {
        return fail(StoreFailure{StoreError::io, "invalid schema name '" + schema + "'"});
    }
    try {
        pqxx::connection c(url);
        pqxx::nontransaction n(c);
        n.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (const std::exception& e) {
        return fail(io("drop schema", e));
    }
    return {};
}

StoreResult<std::optional<JournalHead>> PgLedgerStore::lock_journal() {
    try {
        pqxx::nontransaction n(*m_impl->write_conn);
        n.exec("SELECT pg_advisory_lock(hashtext(" + n.quote(m_impl->lock_name()) + "))");
        const auto head = n.exec("SELECT seq, encode(hash, 'hex') FROM ledger_journal ORDER BY seq DESC LIMIT 1");
        JournalHead out;
        if (!head.empty()) {
            out.count = head[0][0].as<std::int64_t>();
            const auto hash = hex_decode(head[0][1].c_str());
            if (!hash || hash->size() != out.hash.size()) {
                unlock_journal();
                return fail(StoreFailure{StoreError::corrupt, "bad hash at the journal head"});
            }
            std::copy(hash->begin(), hash->end(), out.hash.begin());
        }
        return std::optional<JournalHead>(out);
    } catch (const std::exception& e) {
        unlock_journal();
        return fail(io("lock the journal", e));
    }
}

void PgLedgerStore::unlock_journal() {
    try {
        pqxx::nontransaction n(*m_impl->write_conn);
        n.exec("SELECT pg_advisory_unlock(hashtext(" + n.quote(m_impl->lock_name()) + "))");
    } catch (const std::exception&) {
        // A broken connection has lost its session, and the lock with it.
    }
}

std::string PgLedgerStore::describe() const { return "postgresql (schema " + m_impl->schema + ")"; }

StoreResult<LoadedLedger> PgLedgerStore::load() {
    LoadedLedger out;
    try {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(*m_impl->write_conn);
        for (const auto& row : t.exec(std::string("SELECT ") + kAccountColumns + " FROM ledger_accounts")) {
            auto a = read_account(row);
            if (!a) return fail(a.error());
            out.accounts.push_back(std::move(*a));
        }
        for (const auto& row :
             t.exec(std::string("SELECT ") + kEntryColumns +
                    " FROM ledger_journal j WHERE kind = 2 AND (flags & 2) <> 0 AND NOT EXISTS "
                    "(SELECT 1 FROM ledger_journal r WHERE r.pending_id = j.id AND r.kind IN (2, 4)) "
                    "ORDER BY seq")) {
            auto e = read_entry(row);
            if (!e) return fail(e.error());
            out.open_pendings.push_back(entry_transfer(*e));
        }
        const auto head = t.exec("SELECT seq, encode(hash, 'hex'), timestamp_ns FROM ledger_journal "
                                 "ORDER BY seq DESC LIMIT 1");
        if (!head.empty()) {
            out.head.count = head[0][0].as<std::int64_t>();
            const auto hash = hex_decode(head[0][1].c_str());
            if (!hash || hash->size() != out.head.hash.size()) {
                return fail(StoreFailure{StoreError::corrupt, "bad hash at the journal head"});
            }
            std::copy(hash->begin(), hash->end(), out.head.hash.begin());
            out.last_timestamp_ns = head[0][2].as<std::int64_t>();
        }
        const auto max_id = t.exec("SELECT encode(id, 'hex') FROM ledger_journal WHERE kind IN (2, 3) "
                                   "ORDER BY id DESC LIMIT 1");
        if (!max_id.empty() && !field_id(max_id[0][0], out.max_transfer_id)) {
            return fail(StoreFailure{StoreError::corrupt, "bad transfer id"});
        }
        t.commit();
    } catch (const std::exception& e) {
        return fail(io("load", e));
    }
    return out;
}

StoreResult<std::vector<KnownTransfer>> PgLedgerStore::find_transfers(std::span<const Id128> ids) {
    std::vector<KnownTransfer> out;
    if (ids.empty()) return out;
    try {
        pqxx::nontransaction n(*m_impl->write_conn);
        std::vector<Id128> pendings;
        std::unordered_map<Id128, std::size_t, Id128Hash> pending_index;
        for (const auto& row : n.exec_prepared("find_transfers", ids_array(ids))) {
            auto e = read_entry(row);
            if (!e) return fail(e.error());
            KnownTransfer k{entry_transfer(*e), std::nullopt, std::nullopt};
            if (e->kind == EntryKind::failure) {
                if (e->result == 0 || e->result > kTransferResultMax) {
                    return fail(StoreFailure{StoreError::corrupt,
                                             "bad failure result in entry " + std::to_string(e->seq)});
                }
                k.failure = static_cast<TransferResult>(e->result);
            } else if ((e->flags & transfer_flags::pending) != 0) {
                k.status = PendingStatus::pending;
                pending_index[e->id] = out.size();
                pendings.push_back(e->id);
            }
            out.push_back(std::move(k));
        }
        if (!pendings.empty()) {
            for (const auto& row : n.exec_prepared("find_resolutions", ids_array(pendings))) {
                Id128 pending_id;
                if (!field_id(row[0], pending_id) || !pending_index.contains(pending_id)) {
                    return fail(StoreFailure{StoreError::corrupt, "bad resolution row"});
                }
                KnownTransfer& k = out[pending_index.at(pending_id)];
                const int kind = row[1].as<int>();
                const int flags = row[2].as<int>();
                if (kind == static_cast<int>(EntryKind::expiry)) {
                    k.status = PendingStatus::expired;
                } else if ((flags & transfer_flags::post_pending) != 0) {
                    k.status = PendingStatus::posted;
                } else if ((flags & transfer_flags::void_pending) != 0) {
                    k.status = PendingStatus::voided;
                }
            }
        }
    } catch (const std::exception& e) {
        return fail(io("find transfers", e));
    }
    return out;
}

StoreResult<void> PgLedgerStore::commit(std::span<const JournalEntry> entries,
                                        std::span<const Account> accounts) {
    try {
        pqxx::work w(*m_impl->write_conn);
        if (!entries.empty()) {
            ArrayText seq, kind, id, debit, credit, debit_prev, credit_prev, pending, user_data, amount,
                timeout, code, flags, result, ts, memo, hash;
            for (const JournalEntry& e : entries) {
                seq.add_int(e.seq);
                kind.add_int(static_cast<int>(e.kind));
                id.add_id(e.id);
                debit.add_id(e.debit_account_id);
                credit.add_id(e.credit_account_id);
                debit_prev.add_int(e.debit_prev_seq);
                credit_prev.add_int(e.credit_prev_seq);
                pending.add_id(e.pending_id);
                user_data.add_id(e.user_data);
                amount.add_int(e.amount_msat);
                timeout.add_int(e.timeout_s);
                code.add_int(e.code);
                flags.add_int(e.flags);
                result.add_int(e.result);
                ts.add_int(e.timestamp_ns);
                memo.add_text(e.memo);
                hash.add_bytes(e.hash);
            }
            w.exec_prepared("insert_entries", seq.finish(), kind.finish(), id.finish(), debit.finish(),
                            credit.finish(), debit_prev.finish(), credit_prev.finish(), pending.finish(),
                            user_data.finish(), amount.finish(),
                            timeout.finish(), code.finish(), flags.finish(), result.finish(),
                            ts.finish(), memo.finish(), hash.finish());
        }
        if (!accounts.empty()) {
            ArrayText id, kind, flags, owner, dp, dpo, cp, cpo, ts, last, created;
            for (const Account& a : accounts) {
                id.add_id(a.id);
                kind.add_int(static_cast<int>(a.kind));
                flags.add_int(a.flags);
                owner.add_text(a.owner);
                dp.add_int(a.debits_pending_msat);
                dpo.add_int(a.debits_posted_msat);
                cp.add_int(a.credits_pending_msat);
                cpo.add_int(a.credits_posted_msat);
                ts.add_int(a.timestamp_ns);
                last.add_int(a.last_entry_seq);
                created.add_int(a.created_seq);
            }
            w.exec_prepared("upsert_accounts", id.finish(), kind.finish(), flags.finish(),
                            owner.finish(), dp.finish(), dpo.finish(), cp.finish(), cpo.finish(),
                            ts.finish(), last.finish(), created.finish());
        }
        w.commit();
    } catch (const std::exception& e) {
        return fail(io("commit", e));
    }
    return {};
}

StoreResult<void> PgLedgerStore::backup_to(const std::filesystem::path&) {
    return fail(StoreFailure{StoreError::unsupported,
                             "back up a PostgreSQL ledger with pg_dump or a base backup"});
}

StoreResult<void> PgLedgerStore::scan(std::vector<Account>& accounts, const EntryVisitor& visit) {
    std::lock_guard lock(m_impl->read_mutex);
    try {
        // Repeatable read: every page below comes from the same snapshot as the accounts.
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(*m_impl->read_conn);
        for (const auto& row : t.exec(std::string("SELECT ") + kAccountColumns +
                                      " FROM ledger_accounts ORDER BY id")) {
            auto a = read_account(row);
            if (!a) return fail(a.error());
            accounts.push_back(std::move(*a));
        }
        std::int64_t after = 0;
        for (;;) {
            const auto page = t.exec_params(std::string("SELECT ") + kEntryColumns +
                                                " FROM ledger_journal WHERE seq > $1 ORDER BY seq LIMIT $2",
                                            after, static_cast<std::int64_t>(kScanPageRows));
            for (const auto& row : page) {
                auto e = read_entry(row);
                if (!e) return fail(e.error());
                after = e->seq;
                if (!visit(*e)) return {};
            }
            if (page.size() < kScanPageRows) break;
        }
        t.commit();
    } catch (const std::exception& e) {
        return fail(io("scan", e));
    }
    return {};
}

StoreResult<std::optional<JournalEntry>> PgLedgerStore::entry_at(std::int64_t seq) {
    std::lock_guard lock(m_impl->read_mutex);
    try {
        pqxx::nontransaction n(*m_impl->read_conn);
        const auto r =
            n.exec_params(std::string("SELECT ") + kEntryColumns + " FROM ledger_journal WHERE seq = $1", seq);
        if (r.empty()) return std::optional<JournalEntry>();
        auto e = read_entry(r[0]);
        if (!e) return fail(e.error());
        return std::optional(std::move(*e));
    } catch (const std::exception& e) {
        return fail(io("read entry", e));
    }
}

StoreResult<std::vector<JournalEntry>> PgLedgerStore::account_history(Id128 account_id,
                                                                      std::int64_t before_seq,
                                                                      std::size_t limit) {
    std::lock_guard lock(m_impl->read_mutex);
    std::vector<JournalEntry> out;
    limit = std::min(limit, kHistoryLimitMax);
    if (limit == 0) return out;
    try {
        pqxx::nontransaction n(*m_impl->read_conn);
        const IdBytes b = id_bytes(account_id);
        const std::string hex = hex_encode(b);
        // The list starts at the account's newest entry, or after the page's last entry.
        const auto start = before_seq > 0
            ? n.exec_params("SELECT CASE WHEN kind = 1 THEN (CASE WHEN id = decode($1, 'hex') THEN 0 "
                            "ELSE -1 END) WHEN debit_id = decode($1, 'hex') THEN debit_prev "
                            "WHEN credit_id = decode($1, 'hex') THEN credit_prev ELSE -1 END "
                            "FROM ledger_journal WHERE seq = $2",
                            hex, before_seq)
            : n.exec_params("SELECT last_seq FROM ledger_accounts WHERE id = decode($1, 'hex')", hex);
        if (start.empty() || start[0][0].as<std::int64_t>() <= 0) return out;
        const std::string cols = kEntryColumns;
        const auto r = n.exec_params(
            "WITH RECURSIVE h(seq, depth) AS (SELECT $2::bigint, 1 UNION ALL SELECT CASE "
            "WHEN j.debit_id = decode($1, 'hex') THEN j.debit_prev "
            "WHEN j.credit_id = decode($1, 'hex') THEN j.credit_prev ELSE 0 END, h.depth + 1 "
            "FROM ledger_journal j JOIN h ON j.seq = h.seq WHERE h.depth < $3) "
            "SELECT " + cols + " FROM ledger_journal WHERE seq IN (SELECT seq FROM h WHERE seq > 0) "
            "ORDER BY seq DESC",
            hex, start[0][0].as<std::int64_t>(), static_cast<std::int64_t>(limit));
        for (const auto& row : r) {
            auto e = read_entry(row);
            if (!e) return fail(e.error());
            out.push_back(std::move(*e));
        }
    } catch (const std::exception& e) {
        return fail(io("read history", e));
    }
    return out;
}

}  // namespace satload::ledger
