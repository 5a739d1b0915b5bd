// SqliteChainStore: the chain_* tables in SQLite, one connection, one transaction per call.
#include "onchain/sqlite_chain_store.h"

#include <cstring>

#include "store/sqlite_db.h"

namespace satload::onchain {
namespace {

using namespace store::sqlite;
using store::StoreError;
using store::StoreFailure;

constexpr std::string_view kVersionTable = "chain_schema_version";

// Migration N (1-based) takes the chain schema from N-1 to N. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: blocks followed, addresses, deposits, coins.
    R"sql(
CREATE TABLE chain_blocks (
    height INTEGER PRIMARY KEY NOT NULL CHECK (height >= 0),
    hash   BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    parent BLOB NOT NULL CHECK (length(parent) = 32)
) STRICT;
CREATE TABLE chain_addresses (
    branch     INTEGER NOT NULL CHECK (branch IN (0, 1)),
    idx        INTEGER NOT NULL CHECK (idx >= 0 AND idx < 2147483648),
    account_id INTEGER,
    script     BLOB NOT NULL UNIQUE,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (branch, idx)
) STRICT;
CREATE INDEX chain_addresses_by_account ON chain_addresses (account_id, used, idx) WHERE account_id IS NOT NULL;
CREATE TABLE chain_deposits (
    txid            BLOB NOT NULL CHECK (length(txid) = 32),
    vout            INTEGER NOT NULL CHECK (vout >= 0),
    account_id      INTEGER NOT NULL,
    amount_sat      INTEGER NOT NULL CHECK (amount_sat > 0),
    height          INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'credited', 'orphaned', 'reversing', 'reversed')),
    credits         INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    reversed_msat   INTEGER NOT NULL DEFAULT 0 CHECK (reversed_msat >= 0),
    receivable_msat INTEGER NOT NULL DEFAULT 0 CHECK (receivable_msat >= 0),
    plan_attempt    INTEGER NOT NULL DEFAULT 0 CHECK (plan_attempt >= 0),
    plan_wallet_msat     INTEGER,
    plan_receivable_msat INTEGER,
    PRIMARY KEY (txid, vout)
) STRICT;
CREATE INDEX chain_deposits_by_account ON chain_deposits (account_id);
CREATE INDEX chain_deposits_by_height ON chain_deposits (height) WHERE height IS NOT NULL;
CREATE INDEX chain_deposits_by_status ON chain_deposits (status);
CREATE TABLE chain_coins (
    txid         BLOB NOT NULL CHECK (length(txid) = 32),
    vout         INTEGER NOT NULL CHECK (vout >= 0),
    value_sat    INTEGER NOT NULL CHECK (value_sat > 0),
    branch       INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    spent_txid   BLOB,
    spent_height INTEGER,
    PRIMARY KEY (txid, vout)
) STRICT;
CREATE INDEX chain_coins_by_height ON chain_coins (height);
CREATE INDEX chain_coins_by_spent_height ON chain_coins (spent_height) WHERE spent_height IS NOT NULL;
)sql",
    // 2: withdrawals, and coins held for one.
    R"sql(
ALTER TABLE chain_coins ADD COLUMN reserved_by TEXT;
CREATE INDEX chain_coins_by_reservation ON chain_coins (reserved_by) WHERE reserved_by IS NOT NULL;
CREATE TABLE chain_withdrawals (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id INTEGER NOT NULL,
    address    TEXT NOT NULL,
    amount_sat INTEGER NOT NULL CHECK (amount_sat > 0),
    fee_sat    INTEGER NOT NULL CHECK (fee_sat > 0),
    status     TEXT NOT NULL CHECK (status IN ('reserving', 'awaiting_approval', 'broadcast', 'confirmed', 'voided')),
    txid       BLOB NOT NULL CHECK (length(txid) = 32),
    raw_tx     BLOB NOT NULL,
    created_s  INTEGER NOT NULL
) STRICT;
CREATE INDEX chain_withdrawals_by_account ON chain_withdrawals (account_id, created_s);
CREATE INDEX chain_withdrawals_by_status ON chain_withdrawals (status);
)sql",
    // 3: the client's Idempotency-Key of a withdrawal, unique per account.
    R"sql(
ALTER TABLE chain_withdrawals ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX chain_withdrawals_by_request_key ON chain_withdrawals (account_id, request_key)
    WHERE request_key IS NOT NULL;
)sql",
};

constexpr const char* kWithdrawalColumns =
    "id, account_id, address, amount_sat, fee_sat, status, txid, raw_tx, created_s, request_key";

WithdrawalRecord read_withdrawal(sqlite3_stmt* s) {
    WithdrawalRecord w;
    w.id = column_text(s, 0);
    w.account = sqlite3_column_int64(s, 1);
    w.address = column_text(s, 2);
    w.amount_sat = sqlite3_column_int64(s, 3);
    w.fee_sat = sqlite3_column_int64(s, 4);
    w.status = column_text(s, 5);
    w.txid = column_array<32>(s, 6);
    w.raw_tx = column_blob(s, 7);
    w.created_s = sqlite3_column_int64(s, 8);
    if (sqlite3_column_type(s, 9) != SQLITE_NULL) w.request_key = column_text(s, 9);
    return w;
}

CoinRecord read_coin(sqlite3_stmt* s) {
    CoinRecord c;
    c.outpoint.txid = column_array<32>(s, 0);
    c.outpoint.vout = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
    c.value_sat = sqlite3_column_int64(s, 2);
    c.branch = sqlite3_column_int64(s, 3) == 0 ? Branch::receive : Branch::change;
    c.index = static_cast<std::uint32_t>(sqlite3_column_int64(s, 4));
    c.height = sqlite3_column_int64(s, 5);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) c.spent_by = column_array<32>(s, 6);
    if (sqlite3_column_type(s, 7) != SQLITE_NULL) c.spent_height = sqlite3_column_int64(s, 7);
    if (sqlite3_column_type(s, 8) != SQLITE_NULL) c.reserved_by = column_text(s, 8);
    return c;
}

constexpr const char* kCoinColumns = "txid, vout, value_sat, branch, idx, height, spent_txid, spent_height, reserved_by";

constexpr const char* kDepositColumns =
    "txid, vout, account_id, amount_sat, height, status, credits, reversed_msat, receivable_msat, "
    "plan_attempt, plan_wallet_msat, plan_receivable_msat";

DepositRecord read_deposit(sqlite3_stmt* s) {
    DepositRecord d;
    d.outpoint.txid = column_array<32>(s, 0);
    d.outpoint.vout = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
    d.account = sqlite3_column_int64(s, 2);
    d.amount_sat = sqlite3_column_int64(s, 3);
    if (sqlite3_column_type(s, 4) != SQLITE_NULL) d.height = sqlite3_column_int64(s, 4);
    d.status = parse_deposit_status(column_text(s, 5));
    d.credits = sqlite3_column_int64(s, 6);
    d.reversed_msat = sqlite3_column_int64(s, 7);
    d.receivable_msat = sqlite3_column_int64(s, 8);
    d.plan_attempt = sqlite3_column_int64(s, 9);
    if (sqlite3_column_type(s, 10) != SQLITE_NULL) {
        d.plan = ReversalPlan{sqlite3_column_int64(s, 10), sqlite3_column_int64(s, 11)};
    }
    return d;
}

AddressRecord read_address(sqlite3_stmt* s) {
    AddressRecord a;
    a.branch = sqlite3_column_int64(s, 0) == 0 ? Branch::receive : Branch::change;
    a.index = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) a.account = sqlite3_column_int64(s, 2);
    a.script = column_blob(s, 3);
    a.used = sqlite3_column_int64(s, 4) != 0;
    return a;
}

BlockRecord read_block(sqlite3_stmt* s) {
    return BlockRecord{sqlite3_column_int64(s, 0), column_array<32>(s, 1), column_array<32>(s, 2)};
}

constexpr const char* kAddressColumns = "branch, idx, account_id, script, used";

}  // namespace

SqliteChainStore::SqliteChainStore(sqlite3* db) : m_db(db) {}
SqliteChainStore::~SqliteChainStore() { store::sqlite::close_database(m_db); }

StoreResult<std::unique_ptr<SqliteChainStore>> SqliteChainStore::open(const std::filesystem::path& db_file) {
    auto db = open_database(db_file, kChainStoreBusyTimeoutMs);
    if (!db) return fail(db.error());
    if (auto r = migrate(db->get(), kVersionTable, kMigrations); !r) return fail(r.error());
    return std::unique_ptr<SqliteChainStore>(new SqliteChainStore(db->release()));
}

StoreResult<std::optional<BlockRecord>> SqliteChainStore::tip() {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT height, hash, parent FROM chain_blocks ORDER BY height DESC LIMIT 1");
    return first<BlockRecord>(m_db, q, read_block, "chain tip");
}

StoreResult<std::optional<BlockRecord>> SqliteChainStore::block_at(std::int64_t height) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT height, hash, parent FROM chain_blocks WHERE height = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare block at"));
    q.i64(1, height);
    return first<BlockRecord>(m_db, q, read_block, "block at");
}

StoreResult<void> SqliteChainStore::connect_block(const BlockEffects& e) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    {
        Query q(m_db, "INSERT INTO chain_blocks (height, hash, parent) VALUES (?1, ?2, ?3)");
        if (!q.prepared()) return fail(failure(m_db, "prepare insert block"));
        q.i64(1, e.block.height).blob(2, e.block.hash).blob(3, e.block.parent);
        if (auto r = run(m_db, q, "insert block"); !r) return fail(r.error());
    }
    for (const auto& o : e.outputs) {
        // A coin mined again after a reorg keeps the withdrawal holding it.
        Query coin(m_db,
                   "INSERT INTO chain_coins (txid, vout, value_sat, branch, idx, height) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                   "ON CONFLICT (txid, vout) DO UPDATE SET height = excluded.height");
        if (!coin.prepared()) return fail(failure(m_db, "prepare insert coin"));
        coin.blob(1, o.outpoint.txid).i64(2, o.outpoint.vout).i64(3, o.value_sat);
        coin.i64(4, static_cast<sqlite3_int64>(o.address.branch)).i64(5, o.address.index).i64(6, e.block.height);
        if (auto r = run(m_db, coin, "insert coin"); !r) return fail(r.error());
        Query used(m_db, "UPDATE chain_addresses SET used = 1 WHERE branch = ?1 AND idx = ?2");
        if (!used.prepared()) return fail(failure(m_db, "prepare mark used"));
        used.i64(1, static_cast<sqlite3_int64>(o.address.branch)).i64(2, o.address.index);
        if (auto r = run(m_db, used, "mark used"); !r) return fail(r.error());
        if (!o.deposit || !o.address.account) continue;
        // A deposit seen again (a reorg put its transaction into another block) keeps its
        // history: credits count how often it was credited, so the next credit has a new id.
        Query dep(m_db,
                  "INSERT INTO chain_deposits (txid, vout, account_id, amount_sat, height, status) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 'pending') ON CONFLICT (txid, vout) DO UPDATE SET "
                  "height = excluded.height, status = CASE WHEN status IN ('orphaned', 'reversed') "
                  "THEN 'pending' ELSE status END");
        if (!dep.prepared()) return fail(failure(m_db, "prepare insert deposit"));
        dep.blob(1, o.outpoint.txid).i64(2, o.outpoint.vout).i64(3, *o.address.account).i64(4, o.value_sat);
        dep.i64(5, e.block.height);
        if (auto r = run(m_db, dep, "insert deposit"); !r) return fail(r.error());
    }
    for (const auto& s : e.spends) {
        Query q(m_db, "UPDATE chain_coins SET spent_txid = ?3, spent_height = ?4 WHERE txid = ?1 AND vout = ?2");
        if (!q.prepared()) return fail(failure(m_db, "prepare spend coin"));
        q.blob(1, s.coin.txid).i64(2, s.coin.vout).blob(3, s.txid).i64(4, e.block.height);
        if (auto r = run(m_db, q, "spend coin"); !r) return fail(r.error());
    }
    return tx.commit();
}

StoreResult<DisconnectEffects> SqliteChainStore::disconnect_block(std::int64_t height) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    DisconnectEffects out;
    {
        Query q(m_db, std::string("SELECT ") + kDepositColumns + " FROM chain_deposits WHERE height = ?1");
        if (!q.prepared()) return fail(failure(m_db, "prepare block deposits"));
        q.i64(1, height);
        auto rows = collect<DepositRecord>(m_db, q, read_deposit, "block deposits");
        if (!rows) return fail(rows.error());
        for (auto& d : *rows) {
            if (d.status == DepositStatus::credited || d.status == DepositStatus::reversing) {
                d.status = DepositStatus::reversing;
                out.reversing.push_back(d);
            } else {
                d.status = DepositStatus::orphaned;
                out.orphaned.push_back(d);
            }
        }
    }
    const char* const statements[] = {
        ("UPDATE chain_deposits SET height = NULL, status = CASE WHEN status IN "
         "('credited', 'reversing') THEN 'reversing' ELSE 'orphaned' END WHERE height = ?1"),
        // A coin a withdrawal holds stays (out of the chain, height -1) so the withdrawal still
        // knows its inputs when the coin is mined again; the others go.
        "DELETE FROM chain_coins WHERE height = ?1 AND reserved_by IS NULL",
        "UPDATE chain_coins SET height = -1 WHERE height = ?1",
        "UPDATE chain_coins SET spent_txid = NULL, spent_height = NULL WHERE spent_height = ?1",
        "DELETE FROM chain_blocks WHERE height = ?1",
    };
    for (const char* sql : statements) {
        Query q(m_db, sql);
        if (!q.prepared()) return fail(failure(m_db, "prepare disconnect"));
        q.i64(1, height);
        if (auto r = run(m_db, q, "disconnect block"); !r) return fail(r.error());
    }
    if (auto r = tx.commit(); !r) return fail(r.error());
    return out;
}

StoreResult<std::optional<AddressRecord>> SqliteChainStore::address_by_script(ByteSpan script) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kAddressColumns + " FROM chain_addresses WHERE script = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare address by script"));
    q.blob(1, script);
    return first<AddressRecord>(m_db, q, read_address, "address by script");
}

StoreResult<std::optional<AddressRecord>> SqliteChainStore::unused_address(AccountId account) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kAddressColumns +
                      " FROM chain_addresses WHERE account_id = ?1 AND used = 0 ORDER BY idx DESC LIMIT 1");
    if (!q.prepared()) return fail(failure(m_db, "prepare unused address"));
    q.i64(1, account);
    return first<AddressRecord>(m_db, q, read_address, "unused address");
}

StoreResult<std::uint32_t> SqliteChainStore::next_index(Branch branch) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT coalesce(max(idx) + 1, 0) FROM chain_addresses WHERE branch = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare next index"));
    q.i64(1, static_cast<sqlite3_int64>(branch));
    auto row = first<std::uint64_t>(m_db, q, [](sqlite3_stmt* s) { return column_u64(s, 0); }, "next index");
    if (!row) return fail(row.error());
    return static_cast<std::uint32_t>(row->value_or(0));
}

StoreResult<void> SqliteChainStore::insert_address(const AddressRecord& a) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "INSERT INTO chain_addresses (branch, idx, account_id, script, used) VALUES (?1, ?2, ?3, ?4, 0)");
    if (!q.prepared()) return fail(failure(m_db, "prepare insert address"));
    q.i64(1, static_cast<sqlite3_int64>(a.branch)).i64(2, a.index).blob(4, a.script);
    if (a.account) {
        q.i64(3, *a.account);
    } else {
        q.null(3);
    }
    if (auto r = run(m_db, q, "insert address"); !r) return fail(r.error());
    return {};
}

StoreResult<std::vector<DepositRecord>> SqliteChainStore::deposits_of(AccountId account) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kDepositColumns +
                      " FROM chain_deposits WHERE account_id = ?1 ORDER BY coalesce(height, 9223372036854775807) DESC, txid, vout");
    if (!q.prepared()) return fail(failure(m_db, "prepare deposits of"));
    q.i64(1, account);
    return collect<DepositRecord>(m_db, q, read_deposit, "deposits of");
}

StoreResult<std::vector<DepositRecord>> SqliteChainStore::deposits_with_status(DepositStatus status) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kDepositColumns + " FROM chain_deposits WHERE status = ?1 ORDER BY height");
    if (!q.prepared()) return fail(failure(m_db, "prepare deposits with status"));
    q.text(1, deposit_status_name(status));
    return collect<DepositRecord>(m_db, q, read_deposit, "deposits with status");
}

StoreResult<void> SqliteChainStore::mark_credited(const chain::OutPoint& o) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE chain_deposits SET status = 'credited', credits = credits + 1 "
            "WHERE txid = ?1 AND vout = ?2 AND status = 'pending'");
    if (!q.prepared()) return fail(failure(m_db, "prepare mark credited"));
    q.blob(1, o.txid).i64(2, o.vout);
    auto n = run(m_db, q, "mark credited");
    if (!n) return fail(n.error());
    if (*n == 0) return fail(StoreFailure{StoreError::not_found, "the deposit is not pending"});
    return {};
}

StoreResult<void> SqliteChainStore::mark_reversed(const chain::OutPoint& o, std::int64_t reversed_msat,
                                            std::int64_t receivable_msat) {
    const std::lock_guard lock(m_mutex);
    // A deposit mined again meanwhile (pending) keeps its new status; only the sums are added.
    Query q(m_db,
            "UPDATE chain_deposits SET status = CASE WHEN status <> 'reversing' THEN status "
            "WHEN height IS NULL THEN 'reversed' ELSE 'pending' END, "
            "reversed_msat = reversed_msat + ?3, receivable_msat = receivable_msat + ?4, "
            "plan_attempt = 0, plan_wallet_msat = NULL, plan_receivable_msat = NULL "
            "WHERE txid = ?1 AND vout = ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare mark reversed"));
    q.blob(1, o.txid).i64(2, o.vout).i64(3, reversed_msat).i64(4, receivable_msat);
    if (auto r = run(m_db, q, "mark reversed"); !r) return fail(r.error());
    return {};
}

StoreResult<void> SqliteChainStore::set_reversal_plan(const chain::OutPoint& o, std::optional<ReversalPlan> plan,
                                                std::int64_t attempt) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE chain_deposits SET plan_attempt = ?3, plan_wallet_msat = ?4, plan_receivable_msat = ?5 "
            "WHERE txid = ?1 AND vout = ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare reversal plan"));
    q.blob(1, o.txid).i64(2, o.vout).i64(3, attempt);
    if (plan) {
        q.i64(4, plan->wallet_msat).i64(5, plan->receivable_msat);
    } else {
        q.null(4).null(5);
    }
    if (auto r = run(m_db, q, "reversal plan"); !r) return fail(r.error());
    return {};
}

StoreResult<std::vector<CoinRecord>> SqliteChainStore::unspent_coins() {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kCoinColumns +
                      " FROM chain_coins WHERE spent_txid IS NULL ORDER BY height, txid, vout");
    return collect<CoinRecord>(m_db, q, read_coin, "unspent coins");
}

StoreResult<std::vector<CoinRecord>> SqliteChainStore::coins_of_withdrawal(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kCoinColumns + " FROM chain_coins WHERE reserved_by = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawal coins"));
    q.text(1, id);
    return collect<CoinRecord>(m_db, q, read_coin, "withdrawal coins");
}

StoreResult<void> SqliteChainStore::insert_withdrawal(const WithdrawalRecord& w, const std::vector<chain::OutPoint>& coins) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    Query q(m_db, std::string("INSERT INTO chain_withdrawals (") + kWithdrawalColumns +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!q.prepared()) return fail(failure(m_db, "prepare insert withdrawal"));
    q.text(1, w.id).i64(2, w.account).text(3, w.address).i64(4, w.amount_sat).i64(5, w.fee_sat).text(6, w.status);
    q.blob(7, w.txid).blob(8, w.raw_tx).i64(9, w.created_s);
    if (w.request_key.empty()) {
        q.null(10);
    } else {
        q.text(10, w.request_key);
    }
    if (auto r = run(m_db, q, "insert withdrawal"); !r) return fail(r.error());
    for (const auto& c : coins) {
        Query hold(m_db,
                   "UPDATE chain_coins SET reserved_by = ?3 WHERE txid = ?1 AND vout = ?2 AND reserved_by IS NULL "
                   "AND spent_txid IS NULL");
        if (!hold.prepared()) return fail(failure(m_db, "prepare hold coin"));
        hold.blob(1, c.txid).i64(2, c.vout).text(3, w.id);
        auto n = run(m_db, hold, "hold coin");
        if (!n) return fail(n.error());
        if (*n != 1) return fail(StoreFailure{StoreError::exists, "a coin is held by another withdrawal or spent"});
    }
    return tx.commit();
}

StoreResult<bool> SqliteChainStore::delete_withdrawal(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return fail(r.error());
    Query drop(m_db, "DELETE FROM chain_withdrawals WHERE id = ?1 AND status = 'reserving'");
    if (!drop.prepared()) return fail(failure(m_db, "prepare delete withdrawal"));
    drop.text(1, id);
    auto dropped = run(m_db, drop, "delete withdrawal");
    if (!dropped) return fail(dropped.error());
    if (*dropped == 0) return false;  // moved on (or gone): its coins stay held
    Query release(m_db, "UPDATE chain_coins SET reserved_by = NULL WHERE reserved_by = ?1");
    if (!release.prepared()) return fail(failure(m_db, "prepare release coins"));
    release.text(1, id);
    if (auto r = run(m_db, release, "release coins"); !r) return fail(r.error());
    if (auto r = tx.commit(); !r) return fail(r.error());
    return true;
}

StoreResult<bool> SqliteChainStore::set_withdrawal_status(const std::string& id,
                                                          std::string_view from,
                                                          std::string_view to) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "UPDATE chain_withdrawals SET status = ?3 WHERE id = ?1 AND status = ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawal status"));
    q.text(1, id).text(2, from).text(3, to);
    auto n = run(m_db, q, "withdrawal status");
    if (!n) return fail(n.error());
    return *n == 1;
}

StoreResult<std::optional<WithdrawalRecord>> SqliteChainStore::withdrawal_by_key(
    AccountId account, const std::string& key) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns +
                      " FROM chain_withdrawals WHERE account_id = ?1 AND request_key = ?2");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawal by key"));
    q.i64(1, account).text(2, key);
    return first<WithdrawalRecord>(m_db, q, read_withdrawal, "withdrawal by key");
}

StoreResult<void> SqliteChainStore::release_coins(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "UPDATE chain_coins SET reserved_by = NULL WHERE reserved_by = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare release coins"));
    q.text(1, id);
    if (auto r = run(m_db, q, "release coins"); !r) return fail(r.error());
    return {};
}

StoreResult<std::optional<WithdrawalRecord>> SqliteChainStore::withdrawal(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns + " FROM chain_withdrawals WHERE id = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawal"));
    q.text(1, id);
    return first<WithdrawalRecord>(m_db, q, read_withdrawal, "withdrawal");
}

StoreResult<std::vector<WithdrawalRecord>> SqliteChainStore::withdrawals_of(AccountId account) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns +
                      " FROM chain_withdrawals WHERE account_id = ?1 ORDER BY created_s DESC, id DESC");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawals of"));
    q.i64(1, account);
    return collect<WithdrawalRecord>(m_db, q, read_withdrawal, "withdrawals of");
}

StoreResult<std::vector<WithdrawalRecord>> SqliteChainStore::withdrawals_with_status(std::string_view status) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns + " FROM chain_withdrawals WHERE status = ?1 ORDER BY id");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawals with status"));
    q.text(1, status);
    return collect<WithdrawalRecord>(m_db, q, read_withdrawal, "withdrawals with status");
}

StoreResult<std::vector<WithdrawalRecord>> SqliteChainStore::stale_reserving(std::int64_t grace_s,
                                                                             std::int64_t now_s) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns +
                      " FROM chain_withdrawals WHERE status = 'reserving' AND created_s <= ?1 - ?2 "
                      "ORDER BY id");
    if (!q.prepared()) return fail(failure(m_db, "prepare stale reserving"));
    q.i64(1, now_s).i64(2, grace_s);
    return collect<WithdrawalRecord>(m_db, q, read_withdrawal, "stale reserving");
}

StoreResult<std::vector<WithdrawalRecord>> SqliteChainStore::voided_holding_coins(
    std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kWithdrawalColumns +
                      " FROM chain_withdrawals w WHERE status = 'voided' AND EXISTS "
                      "(SELECT 1 FROM chain_coins c WHERE c.reserved_by = w.id "
                      "AND c.spent_txid IS NULL) ORDER BY created_s, id LIMIT ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare voided withdrawals holding coins"));
    q.i64(1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    return collect<WithdrawalRecord>(m_db, q, read_withdrawal, "voided withdrawals holding coins");
}

StoreResult<std::int64_t> SqliteChainStore::withdrawn_since(std::int64_t since_s) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "SELECT coalesce(sum(amount_sat), 0) FROM chain_withdrawals WHERE created_s >= ?1 AND status <> 'voided' "
            "AND status <> 'awaiting_approval'");
    if (!q.prepared()) return fail(failure(m_db, "prepare withdrawn since"));
    q.i64(1, since_s);
    auto row = first<std::int64_t>(m_db, q, [](sqlite3_stmt* st) { return sqlite3_column_int64(st, 0); },
                                   "withdrawn since");
    if (!row) return fail(row.error());
    return row->value_or(0);
}

}  // namespace satload::onchain
