// PgChainStore: the chain_* tables in PostgreSQL, one transaction per call. Byte columns cross
// the wire as hex text (encode/decode), which needs no escaping; text columns compare bytewise
// (COLLATE "C") so every ORDER BY matches SQLite's.
#include "onchain/pg_chain_store.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "core/check.h"

namespace satload::onchain {
namespace {

using store::StoreError;
using store::StoreFailure;

// Step N (0-based) takes the chain tables from version N to N + 1. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: blocks followed, addresses, deposits, coins and the withdrawals holding them (the
    // tables of SQLite's versions 1 and 2).
    R"sql(
CREATE TABLE chain_blocks (
    height BIGINT PRIMARY KEY CHECK (height >= 0),
    hash   BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32),
    parent BYTEA NOT NULL CHECK (length(parent) = 32)
);
CREATE TABLE chain_addresses (
    branch     BIGINT NOT NULL CHECK (branch IN (0, 1)),
    idx        BIGINT NOT NULL CHECK (idx >= 0 AND idx < 2147483648),
    account_id BIGINT,
    script     BYTEA NOT NULL UNIQUE,
    used       BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (branch, idx)
);
CREATE INDEX chain_addresses_by_account ON chain_addresses (account_id, used, idx) WHERE account_id IS NOT NULL;
CREATE TABLE chain_deposits (
    txid            BYTEA NOT NULL CHECK (length(txid) = 32),
    vout            BIGINT NOT NULL CHECK (vout >= 0),
    account_id      BIGINT NOT NULL,
    amount_sat      BIGINT NOT NULL CHECK (amount_sat > 0),
    height          BIGINT,
    status          TEXT COLLATE "C" NOT NULL
                    CHECK (status IN ('pending', 'credited', 'orphaned', 'reversing', 'reversed')),
    credits         BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
    reversed_msat   BIGINT NOT NULL DEFAULT 0 CHECK (reversed_msat >= 0),
    receivable_msat BIGINT NOT NULL DEFAULT 0 CHECK (receivable_msat >= 0),
    plan_attempt    BIGINT NOT NULL DEFAULT 0 CHECK (plan_attempt >= 0),
    plan_wallet_msat     BIGINT,
    plan_receivable_msat BIGINT,
    PRIMARY KEY (txid, vout)
);
CREATE INDEX chain_deposits_by_account ON chain_deposits (account_id);
CREATE INDEX chain_deposits_by_height ON chain_deposits (height) WHERE height IS NOT NULL;
CREATE INDEX chain_deposits_by_status ON chain_deposits (status);
CREATE TABLE chain_coins (
    txid         BYTEA NOT NULL CHECK (length(txid) = 32),
    vout         BIGINT NOT NULL CHECK (vout >= 0),
    value_sat    BIGINT NOT NULL CHECK (value_sat > 0),
    branch       BIGINT NOT NULL,
    idx          BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    spent_txid   BYTEA,
    spent_height BIGINT,
    reserved_by  TEXT COLLATE "C",
    PRIMARY KEY (txid, vout)
);
CREATE INDEX chain_coins_by_height ON chain_coins (height);
CREATE INDEX chain_coins_by_spent_height ON chain_coins (spent_height) WHERE spent_height IS NOT NULL;
CREATE INDEX chain_coins_by_reservation ON chain_coins (reserved_by) WHERE reserved_by IS NOT NULL;
CREATE TABLE chain_withdrawals (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account_id BIGINT NOT NULL,
    address    TEXT NOT NULL,
    amount_sat BIGINT NOT NULL CHECK (amount_sat > 0),
    fee_sat    BIGINT NOT NULL CHECK (fee_sat > 0),
    status     TEXT COLLATE "C" NOT NULL
               CHECK (status IN ('reserving', 'awaiting_approval', 'broadcast', 'confirmed', 'voided')),
    txid       BYTEA NOT NULL CHECK (length(txid) = 32),
    raw_tx     BYTEA NOT NULL,
    created_s  BIGINT NOT NULL
);
CREATE INDEX chain_withdrawals_by_account ON chain_withdrawals (account_id, created_s);
CREATE INDEX chain_withdrawals_by_status ON chain_withdrawals (status);
)sql",
    // 2: the client's Idempotency-Key of a withdrawal, unique per account.
    R"sql(
ALTER TABLE chain_withdrawals ADD COLUMN request_key TEXT COLLATE "C";
CREATE UNIQUE INDEX chain_withdrawals_by_request_key ON chain_withdrawals (account_id, request_key)
    WHERE request_key IS NOT NULL;
)sql",
    // 3: when the row was written, by the database's clock (instances' clocks may differ): a
    // withdrawal left `reserving` is judged stale by it. Rows written before count from now.
    R"sql(
ALTER TABLE chain_withdrawals ADD COLUMN written_s BIGINT NOT NULL
    DEFAULT (floor(extract(epoch FROM now())))::bigint;
)sql",
};

constexpr const char* kBlockColumns = "height, encode(hash, 'hex'), encode(parent, 'hex')";
constexpr const char* kAddressColumns = "branch, idx, account_id, encode(script, 'hex'), used";
constexpr const char* kDepositColumns =
    "encode(txid, 'hex'), vout, account_id, amount_sat, height, status, credits, reversed_msat, "
    "receivable_msat, plan_attempt, plan_wallet_msat, plan_receivable_msat";
constexpr const char* kCoinColumns =
    "encode(txid, 'hex'), vout, value_sat, branch, idx, height, encode(spent_txid, 'hex'), "
    "spent_height, "
    "reserved_by";
constexpr const char* kWithdrawalColumns =
    "id, account_id, address, amount_sat, fee_sat, status, encode(txid, 'hex'), encode(raw_tx, "
    "'hex'), "
    "created_s, request_key";

// A byte column read as hex. The schema's CHECKs fix the lengths that matter, so a bad value
// is a damaged database: the throw becomes the call's io failure.
Bytes field_bytes(const pqxx::field& f) {
    auto b = hex_decode(f.c_str());
    if (!b) throw std::runtime_error("a byte column does not decode");
    return std::move(*b);
}

chain::Hash256 field_hash(const pqxx::field& f) {
    const Bytes b = field_bytes(f);
    if (b.size() != chain::Hash256{}.size())
        throw std::runtime_error("a hash column is not 32 bytes");
    chain::Hash256 h{};
    std::copy(b.begin(), b.end(), h.begin());
    return h;
}

std::optional<std::int64_t> field_optional(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<std::int64_t>();
}

std::uint32_t field_u32(const pqxx::field& f) {
    return static_cast<std::uint32_t>(f.as<std::int64_t>());
}

Branch field_branch(const pqxx::field& f) {
    return f.as<std::int64_t>() == 0 ? Branch::receive : Branch::change;
}

std::int64_t branch_param(Branch b) { return static_cast<std::int64_t>(b); }

BlockRecord read_block(const pqxx::row& r) {
    return BlockRecord{r[0].as<std::int64_t>(), field_hash(r[1]), field_hash(r[2])};
}

AddressRecord read_address(const pqxx::row& r) {
    AddressRecord a;
    a.branch = field_branch(r[0]);
    a.index = field_u32(r[1]);
    a.account = field_optional(r[2]);
    a.script = field_bytes(r[3]);
    a.used = r[4].as<bool>();
    return a;
}

DepositRecord read_deposit(const pqxx::row& r) {
    DepositRecord d;
    d.outpoint.txid = field_hash(r[0]);
    d.outpoint.vout = field_u32(r[1]);
    d.account = r[2].as<std::int64_t>();
    d.amount_sat = r[3].as<std::int64_t>();
    d.height = field_optional(r[4]);
    d.status = parse_deposit_status(r[5].c_str());
    d.credits = r[6].as<std::int64_t>();
    d.reversed_msat = r[7].as<std::int64_t>();
    d.receivable_msat = r[8].as<std::int64_t>();
    d.plan_attempt = r[9].as<std::int64_t>();
    if (!r[10].is_null()) d.plan = ReversalPlan{r[10].as<std::int64_t>(), r[11].as<std::int64_t>()};
    return d;
}

CoinRecord read_coin(const pqxx::row& r) {
    CoinRecord c;
    c.outpoint.txid = field_hash(r[0]);
    c.outpoint.vout = field_u32(r[1]);
    c.value_sat = r[2].as<std::int64_t>();
    c.branch = field_branch(r[3]);
    c.index = field_u32(r[4]);
    c.height = r[5].as<std::int64_t>();
    if (!r[6].is_null()) c.spent_by = field_hash(r[6]);
    c.spent_height = field_optional(r[7]);
    if (!r[8].is_null()) c.reserved_by = r[8].c_str();
    return c;
}

WithdrawalRecord read_withdrawal(const pqxx::row& r) {
    WithdrawalRecord w;
    w.id = r[0].c_str();
    w.account = r[1].as<std::int64_t>();
    w.address = r[2].c_str();
    w.amount_sat = r[3].as<std::int64_t>();
    w.fee_sat = r[4].as<std::int64_t>();
    w.status = r[5].c_str();
    w.txid = field_hash(r[6]);
    w.raw_tx = field_bytes(r[7]);
    w.created_s = r[8].as<std::int64_t>();
    if (!r[9].is_null()) w.request_key = r[9].c_str();
    return w;
}

template <class Read>
auto all_rows(const pqxx::result& result, Read read) {
    std::vector<decltype(read(result[0]))> out;
    out.reserve(result.size());
    for (const auto& row : result) out.push_back(read(row));
    return out;
}

template <class Read>
auto first_row(const pqxx::result& result, Read read) -> std::optional<decltype(read(result[0]))> {
    if (result.empty()) return std::nullopt;
    return read(result[0]);
}

// libpq's parameters end at a NUL byte, so "id\0x" would arrive as "id" and name that
// withdrawal. A text holding one names nothing here (as SQLite's byte-wise lookups find
// nothing), and writing one is refused.
bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

StoreResult<std::unique_ptr<PgChainStore>> PgChainStore::open(std::shared_ptr<store::PgDb> db) {
    SATLOAD_ASSERT(db != nullptr);
    if (auto r = db->migrate(kPgChainComponent, kMigrations); !r) return fail(r.error());
    return std::unique_ptr<PgChainStore>(new PgChainStore(std::move(db)));
}

StoreResult<std::optional<BlockRecord>> PgChainStore::tip() {
    return m_db->transact("chain tip", [](pqxx::work& w) {
        return first_row(w.exec(std::string("SELECT ") + kBlockColumns +
                                " FROM chain_blocks ORDER BY height DESC LIMIT 1"),
                         read_block);
    });
}

StoreResult<std::optional<BlockRecord>> PgChainStore::block_at(std::int64_t height) {
    return m_db->transact("block at", [height](pqxx::work& w) {
        return first_row(w.exec_params(std::string("SELECT ") + kBlockColumns +
                                           " FROM chain_blocks WHERE height = $1",
                                       height),
                         read_block);
    });
}

StoreResult<void> PgChainStore::connect_block(const BlockEffects& e) {
    // One transaction: a failure anywhere (a block already at this height: `exists`) leaves
    // none of the block's effects.
    return m_db->transact("connect block", [&e](pqxx::work& w) {
        w.exec_params(
            "INSERT INTO chain_blocks (height, hash, parent) VALUES ($1, decode($2, 'hex'), "
            "decode($3, 'hex'))",
            e.block.height, hex_encode(e.block.hash), hex_encode(e.block.parent));
        for (const auto& o : e.outputs) {
            const std::string txid = hex_encode(o.outpoint.txid);
            const auto vout = static_cast<std::int64_t>(o.outpoint.vout);
            // A coin mined again after a reorg keeps the withdrawal holding it.
            w.exec_params(
                "INSERT INTO chain_coins (txid, vout, value_sat, branch, idx, height) "
                "VALUES (decode($1, 'hex'), $2, $3, $4, $5, $6) "
                "ON CONFLICT (txid, vout) DO UPDATE SET height = excluded.height",
                txid, vout, o.value_sat, branch_param(o.address.branch),
                static_cast<std::int64_t>(o.address.index), e.block.height);
            w.exec_params("UPDATE chain_addresses SET used = true WHERE branch = $1 AND idx = $2",
                          branch_param(o.address.branch),
                          static_cast<std::int64_t>(o.address.index));
            if (!o.deposit || !o.address.account) continue;
            // A deposit seen again (a reorg put its transaction into another block) keeps its
            // history: credits count how often it was credited, so the next credit has a new id.
            w.exec_params(
                "INSERT INTO chain_deposits (txid, vout, account_id, amount_sat, height, status) "
                "VALUES (decode($1, 'hex'), $2, $3, $4, $5, 'pending') ON CONFLICT (txid, vout) "
                "DO UPDATE SET height = excluded.height, status = CASE WHEN chain_deposits.status "
                "IN ('orphaned', 'reversed') THEN 'pending' ELSE chain_deposits.status END",
                txid, vout, *o.address.account, o.value_sat, e.block.height);
        }
        for (const auto& s : e.spends) {
            w.exec_params(
                "UPDATE chain_coins SET spent_txid = decode($3, 'hex'), spent_height = $4 "
                "WHERE txid = decode($1, 'hex') AND vout = $2",
                hex_encode(s.coin.txid), static_cast<std::int64_t>(s.coin.vout), hex_encode(s.txid),
                e.block.height);
        }
    });
}

StoreResult<DisconnectEffects> PgChainStore::disconnect_block(std::int64_t height) {
    return m_db->transact("disconnect block", [height](pqxx::work& w) {
        DisconnectEffects out;
        // Locked, so what is reported is what the updates below change (a credit committing
        // meanwhile waits, then finds the deposit no longer pending).
        auto rows = all_rows(w.exec_params(std::string("SELECT ") + kDepositColumns +
                                               " FROM chain_deposits WHERE height = $1 FOR UPDATE",
                                           height),
                             read_deposit);
        for (auto& d : rows) {
            if (d.status == DepositStatus::credited || d.status == DepositStatus::reversing) {
                d.status = DepositStatus::reversing;
                out.reversing.push_back(d);
            } else {
                d.status = DepositStatus::orphaned;
                out.orphaned.push_back(d);
            }
        }
        const char* const statements[] = {
            "UPDATE chain_deposits SET height = NULL, status = CASE WHEN status IN ('credited', "
            "'reversing') "
            "THEN 'reversing' ELSE 'orphaned' END WHERE height = $1",
            // A coin a withdrawal holds stays (out of the chain, height -1) so the withdrawal
            // still knows its inputs when the coin is mined again; the others go.
            "DELETE FROM chain_coins WHERE height = $1 AND reserved_by IS NULL",
            "UPDATE chain_coins SET height = -1 WHERE height = $1",
            "UPDATE chain_coins SET spent_txid = NULL, spent_height = NULL WHERE spent_height = $1",
            "DELETE FROM chain_blocks WHERE height = $1",
        };
        for (const char* sql : statements) w.exec_params(sql, height);
        return out;
    });
}

StoreResult<std::optional<AddressRecord>> PgChainStore::address_by_script(ByteSpan script) {
    const std::string hex = hex_encode(script);
    return m_db->transact("address by script", [&hex](pqxx::work& w) {
        return first_row(w.exec_params(std::string("SELECT ") + kAddressColumns +
                                           " FROM chain_addresses WHERE script = decode($1, 'hex')",
                                       hex),
                         read_address);
    });
}

StoreResult<std::optional<AddressRecord>> PgChainStore::unused_address(AccountId account) {
    return m_db->transact("unused address", [account](pqxx::work& w) {
        return first_row(
            w.exec_params(std::string("SELECT ") + kAddressColumns +
                              " FROM chain_addresses WHERE account_id = $1 AND NOT used "
                              "ORDER BY idx DESC LIMIT 1",
                          account),
            read_address);
    });
}

StoreResult<std::uint32_t> PgChainStore::next_index(Branch branch) {
    return m_db->transact("next index", [branch](pqxx::work& w) {
        const auto r =
            w.exec_params("SELECT coalesce(max(idx) + 1, 0) FROM chain_addresses WHERE branch = $1",
                          branch_param(branch));
        return static_cast<std::uint32_t>(r[0][0].as<std::int64_t>());
    });
}

StoreResult<void> PgChainStore::insert_address(const AddressRecord& a) {
    // A taken index or script is a unique violation: `exists`.
    return m_db->transact("insert address", [&a](pqxx::work& w) {
        w.exec_params(
            "INSERT INTO chain_addresses (branch, idx, account_id, script, used) "
            "VALUES ($1, $2, $3, decode($4, 'hex'), false)",
            branch_param(a.branch), static_cast<std::int64_t>(a.index), a.account,
            hex_encode(a.script));
    });
}

StoreResult<std::vector<DepositRecord>> PgChainStore::deposits_of(AccountId account) {
    return m_db->transact("deposits of", [account](pqxx::work& w) {
        return all_rows(
            w.exec_params(std::string("SELECT ") + kDepositColumns +
                              " FROM chain_deposits WHERE account_id = $1 "
                              "ORDER BY coalesce(height, 9223372036854775807) DESC, txid, vout",
                          account),
            read_deposit);
    });
}

StoreResult<std::vector<DepositRecord>> PgChainStore::deposits_with_status(DepositStatus status) {
    // NULLS FIRST: SQLite's order for the deposits no block holds.
    return m_db->transact("deposits with status", [status](pqxx::work& w) {
        return all_rows(w.exec_params(std::string("SELECT ") + kDepositColumns +
                                          " FROM chain_deposits WHERE status = $1 "
                                          "ORDER BY height NULLS FIRST, txid, vout",
                                      std::string(deposit_status_name(status))),
                        read_deposit);
    });
}

StoreResult<void> PgChainStore::mark_credited(const chain::OutPoint& o) {
    const std::string txid = hex_encode(o.txid);
    return m_db->transact("mark credited", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            "UPDATE chain_deposits SET status = 'credited', credits = credits + 1 "
            "WHERE txid = decode($1, 'hex') AND vout = $2 AND status = 'pending'",
            txid, static_cast<std::int64_t>(o.vout));
        if (r.affected_rows() == 0)
            return fail(StoreFailure{StoreError::not_found, "the deposit is not pending"});
        return {};
    });
}

StoreResult<void> PgChainStore::set_reversal_plan(const chain::OutPoint& o,
                                                  std::optional<ReversalPlan> plan,
                                                  std::int64_t attempt) {
    const std::string txid = hex_encode(o.txid);
    std::optional<std::int64_t> wallet_msat;
    std::optional<std::int64_t> receivable_msat;
    if (plan) {
        wallet_msat = plan->wallet_msat;
        receivable_msat = plan->receivable_msat;
    }
    return m_db->transact("reversal plan", [&](pqxx::work& w) {
        w.exec_params(
            "UPDATE chain_deposits SET plan_attempt = $3, plan_wallet_msat = $4, "
            "plan_receivable_msat = $5 WHERE txid = decode($1, 'hex') AND vout = $2",
            txid, static_cast<std::int64_t>(o.vout), attempt, wallet_msat, receivable_msat);
    });
}

StoreResult<void> PgChainStore::mark_reversed(const chain::OutPoint& o, std::int64_t reversed_msat,
                                              std::int64_t receivable_msat) {
    const std::string txid = hex_encode(o.txid);
    // A deposit mined again meanwhile (pending) keeps its new status; only the sums are added.
    return m_db->transact("mark reversed", [&](pqxx::work& w) {
        w.exec_params(
            "UPDATE chain_deposits SET status = CASE WHEN status <> 'reversing' THEN status "
            "WHEN height IS NULL THEN 'reversed' ELSE 'pending' END, "
            "reversed_msat = reversed_msat + $3, receivable_msat = receivable_msat + $4, "
            "plan_attempt = 0, plan_wallet_msat = NULL, plan_receivable_msat = NULL "
            "WHERE txid = decode($1, 'hex') AND vout = $2",
            txid, static_cast<std::int64_t>(o.vout), reversed_msat, receivable_msat);
    });
}

StoreResult<std::vector<CoinRecord>> PgChainStore::unspent_coins() {
    return m_db->transact("unspent coins", [](pqxx::work& w) {
        return all_rows(
            w.exec(std::string("SELECT ") + kCoinColumns +
                   " FROM chain_coins WHERE spent_txid IS NULL ORDER BY height, txid, vout"),
            read_coin);
    });
}

StoreResult<std::vector<CoinRecord>> PgChainStore::coins_of_withdrawal(const std::string& id) {
    if (has_nul(id)) return std::vector<CoinRecord>();
    return m_db->transact("withdrawal coins", [&id](pqxx::work& w) {
        return all_rows(
            w.exec_params(std::string("SELECT ") + kCoinColumns +
                              " FROM chain_coins WHERE reserved_by = $1 ORDER BY txid, vout",
                          id),
            read_coin);
    });
}

StoreResult<void> PgChainStore::insert_withdrawal(const WithdrawalRecord& wd,
                                                  const std::vector<chain::OutPoint>& coins) {
    // Coins are held in one order, so two withdrawals wanting the same coins wait for each
    // other instead of deadlocking; a coin already held or spent rolls the whole insert back.
    std::vector<chain::OutPoint> sorted = coins;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return std::tie(a.txid, a.vout) < std::tie(b.txid, b.vout);
    });
    if (has_nul(wd.id) || has_nul(wd.address) || has_nul(wd.status) || has_nul(wd.request_key)) {
        return fail(StoreFailure{StoreError::io, "a withdrawal's text holds a NUL byte"});
    }
    return m_db->transact("insert withdrawal", [&](pqxx::work& w) -> StoreResult<void> {
        w.exec_params(
            "INSERT INTO chain_withdrawals (id, account_id, address, amount_sat, fee_sat, status, "
            "txid, raw_tx, created_s, request_key) VALUES ($1, $2, $3, $4, $5, $6, "
            "decode($7, 'hex'), decode($8, 'hex'), $9, $10)",
            wd.id, wd.account, wd.address, wd.amount_sat, wd.fee_sat, wd.status,
            hex_encode(wd.txid), hex_encode(wd.raw_tx), wd.created_s,
            wd.request_key.empty() ? std::optional<std::string>() : std::optional(wd.request_key));
        for (const auto& c : sorted) {
            const auto held = w.exec_params(
                "UPDATE chain_coins SET reserved_by = $3 WHERE txid = decode($1, 'hex') "
                "AND vout = $2 AND reserved_by IS NULL AND spent_txid IS NULL",
                hex_encode(c.txid), static_cast<std::int64_t>(c.vout), wd.id);
            if (held.affected_rows() != 1) {
                return fail(StoreFailure{StoreError::exists,
                                         "a coin is held by another withdrawal or spent"});
            }
        }
        return {};
    });
}

StoreResult<bool> PgChainStore::delete_withdrawal(const std::string& id) {
    if (has_nul(id)) return false;  // names no withdrawal
    return m_db->transact("delete withdrawal", [&id](pqxx::work& w) {
        const auto dropped = w.exec_params(
            "DELETE FROM chain_withdrawals WHERE id = $1 AND status = 'reserving'", id);
        if (dropped.affected_rows() == 0) return false;  // moved on (or gone): its coins stay held
        w.exec_params("UPDATE chain_coins SET reserved_by = NULL WHERE reserved_by = $1", id);
        return true;
    });
}

StoreResult<bool> PgChainStore::set_withdrawal_status(const std::string& id, std::string_view from,
                                                      std::string_view to) {
    if (has_nul(id) || has_nul(from)) return false;  // names no withdrawal in that status
    if (has_nul(to)) {
        return fail(StoreFailure{StoreError::io, "a withdrawal status holds a NUL byte"});
    }
    return m_db->transact("withdrawal status", [&](pqxx::work& w) {
        const auto r =
            w.exec_params("UPDATE chain_withdrawals SET status = $3 WHERE id = $1 AND status = $2",
                          id, std::string(from), std::string(to));
        return r.affected_rows() == 1;
    });
}

StoreResult<std::optional<WithdrawalRecord>> PgChainStore::withdrawal_by_key(
    AccountId account, const std::string& key) {
    if (has_nul(key)) return std::optional<WithdrawalRecord>();
    return m_db->transact("withdrawal by key", [&](pqxx::work& w) {
        return first_row(w.exec_params(std::string("SELECT ") + kWithdrawalColumns +
                                           " FROM chain_withdrawals WHERE account_id = $1 "
                                           "AND request_key = $2",
                                       account, key),
                         read_withdrawal);
    });
}

StoreResult<void> PgChainStore::release_coins(const std::string& id) {
    if (has_nul(id)) return {};  // names no withdrawal
    return m_db->transact("release coins", [&id](pqxx::work& w) {
        w.exec_params("UPDATE chain_coins SET reserved_by = NULL WHERE reserved_by = $1", id);
    });
}

StoreResult<std::optional<WithdrawalRecord>> PgChainStore::withdrawal(const std::string& id) {
    if (has_nul(id)) return std::optional<WithdrawalRecord>();
    return m_db->transact("withdrawal", [&id](pqxx::work& w) {
        return first_row(w.exec_params(std::string("SELECT ") + kWithdrawalColumns +
                                           " FROM chain_withdrawals WHERE id = $1",
                                       id),
                         read_withdrawal);
    });
}

StoreResult<std::vector<WithdrawalRecord>> PgChainStore::withdrawals_of(AccountId account) {
    return m_db->transact("withdrawals of", [account](pqxx::work& w) {
        return all_rows(w.exec_params(std::string("SELECT ") + kWithdrawalColumns +
                                          " FROM chain_withdrawals WHERE account_id = $1 "
                                          "ORDER BY created_s DESC, id DESC",
                                      account),
                        read_withdrawal);
    });
}

StoreResult<std::vector<WithdrawalRecord>> PgChainStore::withdrawals_with_status(
    std::string_view status) {
    const std::string s(status);
    if (has_nul(status)) return std::vector<WithdrawalRecord>();
    return m_db->transact("withdrawals with status", [&s](pqxx::work& w) {
        return all_rows(w.exec_params(std::string("SELECT ") + kWithdrawalColumns +
                                          " FROM chain_withdrawals WHERE status = $1 ORDER BY id",
                                      s),
                        read_withdrawal);
    });
}

StoreResult<std::vector<WithdrawalRecord>> PgChainStore::stale_reserving(std::int64_t grace_s,
                                                                         std::int64_t /*now_s*/) {
    return m_db->transact("stale reserving", [grace_s](pqxx::work& w) {
        return all_rows(
            w.exec_params(
                std::string("SELECT ") + kWithdrawalColumns +
                    " FROM chain_withdrawals WHERE status = 'reserving' AND "
                    "written_s <= (floor(extract(epoch FROM now())))::bigint - $1 ORDER BY id",
                grace_s),
            read_withdrawal);
    });
}

StoreResult<std::vector<WithdrawalRecord>> PgChainStore::voided_holding_coins(std::size_t limit) {
    const auto n = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
    return m_db->transact("voided withdrawals holding coins", [n](pqxx::work& w) {
        return all_rows(
            w.exec_params(std::string("SELECT ") + kWithdrawalColumns +
                              " FROM chain_withdrawals w WHERE status = 'voided' AND EXISTS "
                              "(SELECT 1 FROM chain_coins c WHERE c.reserved_by = w.id "
                              "AND c.spent_txid IS NULL) ORDER BY created_s, id LIMIT $1",
                          n),
            read_withdrawal);
    });
}

StoreResult<std::int64_t> PgChainStore::withdrawn_since(std::int64_t since_s) {
    return m_db->transact("withdrawn since", [since_s](pqxx::work& w) {
        const auto r = w.exec_params(
            "SELECT coalesce(sum(amount_sat), 0) FROM chain_withdrawals "
            "WHERE created_s >= $1 AND status <> 'voided' AND status <> 'awaiting_approval'",
            since_s);
        return r[0][0].as<std::int64_t>();
    });
}

}  // namespace satload::onchain
