// PgDb: one PostgreSQL database shared by every store of a deployment (`serve --db
// postgresql://…`): a bounded pool of libpqxx connections, each with the deployment's schema
// first on its search_path and synchronous_commit on (a commit that returns is durable on the
// server), transactions with retry on serialization failures, and versioned schema
// migrations per component, applied once however many instances start at the same time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <pqxx/pqxx>

#include "store/blob_store.h"

namespace satload::store {

inline constexpr std::size_t kPgPoolConnections = 8;        // per PgDb (per serve process)
inline constexpr std::size_t kPgPoolConnectionsMax = 64;
inline constexpr std::chrono::seconds kPgAcquireTimeout{15};  // waiting for a free connection
inline constexpr int kPgTransactAttempts = 5;               // serialization failures, deadlocks
inline constexpr std::string_view kPgDefaultSchema = "satload";

// A --db URL split into what libpq takes and satload's own `schema` query parameter (default
// "satload"; [a-z_][a-z0-9_]*, at most 63 bytes): every table of the deployment lives in it.
struct PgUrl {
    std::string conninfo;  // the URL without `schema`, for libpq
    std::string schema;
};
StoreResult<PgUrl> parse_pg_url(std::string_view url);
[[nodiscard]] bool is_pg_url(std::string_view url);  // postgresql:// or postgres://
[[nodiscard]] bool valid_pg_schema_name(std::string_view name);

// Maps an exception from libpqxx to a StoreFailure: a unique violation is `exists`, the rest
// `io`. `what` names the operation for the message (never a value: values may be secrets).
StoreFailure pg_failure(std::string_view what, const std::exception& e);

// --- Values to and from PostgreSQL, the same for every store ---

// Whether PostgreSQL can hold `s` as a text parameter: no NUL byte (libpq ends a parameter at
// one, so "id\0x" would arrive as "id" and name that row) and well-formed UTF-8 (the server
// refuses anything else). A text that is not storable names nothing that exists, so a lookup
// by it finds nothing, as SQLite's byte-wise lookups do; writing one is refused
// (pg_unstorable, StoreError::io), never stored cut short.
[[nodiscard]] bool pg_storable(std::string_view s);
template <class... Texts>
[[nodiscard]] bool pg_storable_all(const Texts&... texts) {
    return (pg_storable(texts) && ...);
}
// The failure for a write of a text that is not storable; `what` names the value.
StoreFailure pg_unstorable(std::string_view what);

// Sizes and counts are unsigned here and BIGINT (signed 64-bit) in the database: a value
// beyond INT64_MAX is refused (StoreError::io) rather than stored negative.
StoreResult<std::int64_t> pg_bigint(std::uint64_t value);
StoreResult<std::optional<std::int64_t>> pg_bigint(const std::optional<std::uint64_t>& value);
// A LIMIT parameter: a size beyond BIGINT means "all", so it is clamped, never refused.
[[nodiscard]] std::int64_t pg_limit(std::size_t limit);

// A BIGINT column the schema keeps >= 0 (sizes, counts). A negative one is refused rather
// than wrapped: the exception becomes a StoreFailure in transact/read.
[[nodiscard]] std::uint64_t pg_u64(const pqxx::field& f);
// A nullable BIGINT column: nullopt for NULL.
[[nodiscard]] inline std::optional<std::int64_t> pg_optional_bigint(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<std::int64_t>();
}
// A text column with every byte (c_str() alone would end at a NUL the server never stores,
// but the length is authoritative).
[[nodiscard]] inline std::string pg_text(const pqxx::field& f) {
    return std::string(f.c_str(), f.size());
}

// Every row of `rows` through read(row), in order.
template <class Read>
auto pg_rows(const pqxx::result& rows, Read read) {
    std::vector<std::decay_t<std::invoke_result_t<Read&, const pqxx::row&>>> out;
    out.reserve(rows.size());
    for (const auto& row : rows) out.push_back(read(row));
    return out;
}
// The first row of `rows` through read(row), or nullopt when there is none.
template <class Read>
auto pg_first(const pqxx::result& rows, Read read)
    -> std::optional<std::decay_t<std::invoke_result_t<Read&, const pqxx::row&>>> {
    if (rows.empty()) return std::nullopt;
    return read(rows[0]);
}

template <class T>
inline constexpr bool is_store_result_v = false;
template <class T>
inline constexpr bool is_store_result_v<StoreResult<T>> = true;
template <class R>
struct PgValue {
    using type = R;
};
template <class T>
struct PgValue<StoreResult<T>> {
    using type = T;
};
template <class R>
using pg_value_t = typename PgValue<R>::type;

class PgDb {
public:
    // Connects once (to fail early on a bad URL), creates the schema if needed.
    static StoreResult<std::shared_ptr<PgDb>> open(std::string_view url,
                                                   std::size_t connections = kPgPoolConnections);
    ~PgDb();
    PgDb(const PgDb&) = delete;
    PgDb& operator=(const PgDb&) = delete;

    [[nodiscard]] const std::string& schema() const { return m_url.schema; }
    [[nodiscard]] const std::string& conninfo() const { return m_url.conninfo; }

    // A connection borrowed from the pool; returned when the lease ends (dropped instead if it
    // broke, so the next borrower connects afresh).
    class Lease {
    public:
        Lease(Lease&& other) noexcept : m_db(other.m_db), m_conn(std::move(other.m_conn)) {}
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        pqxx::connection& operator*() { return *m_conn; }
        pqxx::connection* operator->() { return m_conn.get(); }

    private:
        friend class PgDb;
        Lease(PgDb* db, std::unique_ptr<pqxx::connection> conn) : m_db(db), m_conn(std::move(conn)) {}
        PgDb* m_db;
        std::unique_ptr<pqxx::connection> m_conn;
    };
    StoreResult<Lease> acquire();

    // Runs fn(pqxx::work&) in one transaction and commits; a serialization failure or a
    // deadlock runs it again (up to kPgTransactAttempts), so fn must only touch the database.
    // Exceptions become StoreFailures (pg_failure). fn returns a value (or nothing), or a
    // StoreResult: a failed one rolls the transaction back and is returned as it is.
    template <class Fn>
    auto transact(std::string_view what, Fn&& fn) -> StoreResult<pg_value_t<std::invoke_result_t<Fn&, pqxx::work&>>> {
        return run<pqxx::work>(what, fn);
    }

    // Runs fn(pqxx::nontransaction&) outside any transaction block: each statement commits on
    // its own (autocommit), which saves BEGIN and COMMIT, two round trips of three for a
    // single-statement read. Only for reads of ONE statement (a statement sees one snapshot;
    // two would not see the same one). Results and errors as transact's.
    template <class Fn>
    auto read(std::string_view what, Fn&& fn)
        -> StoreResult<pg_value_t<std::invoke_result_t<Fn&, pqxx::nontransaction&>>> {
        return run<pqxx::nontransaction>(what, fn);
    }

    // Brings `component`'s tables to steps.size(): step i (0-based) moves version i to i + 1,
    // each in its own transaction recorded in satload_migrations. Runs under an advisory lock,
    // so instances that start together migrate once. A database newer than `steps` is an
    // error (an older program must not write to it). Returns the version found before.
    StoreResult<int> migrate(std::string_view component, std::span<const std::string_view> steps);
    // The component's schema version (0 when never migrated).
    StoreResult<int> version(std::string_view component);

    // Drops the schema of `url` and everything in it (tests clean up with this).
    static StoreResult<void> drop_schema(std::string_view url);

private:
    // transact and read: fn(Tx&) on a borrowed connection, committed unless it returns a failed
    // StoreResult; retried on serialization failures and deadlocks.
    template <class Tx, class Fn>
    auto run(std::string_view what, Fn& fn)
        -> StoreResult<pg_value_t<std::invoke_result_t<Fn&, Tx&>>> {
        using R = std::invoke_result_t<Fn&, Tx&>;
        for (int attempt = 1;; ++attempt) {
            auto lease = acquire();
            if (!lease) return fail(lease.error());
            try {
                Tx tx(**lease);
                if constexpr (std::is_void_v<R>) {
                    fn(tx);
                    tx.commit();
                    return {};
                } else if constexpr (is_store_result_v<R>) {
                    R r = fn(tx);
                    if (r) tx.commit();  // else the transaction's destructor rolls back
                    return r;
                } else {
                    R r = fn(tx);
                    tx.commit();
                    return r;
                }
            } catch (const pqxx::transaction_rollback& e) {  // serialization failure, deadlock
                if (attempt >= kPgTransactAttempts) return fail(pg_failure(what, e));
            } catch (const std::exception& e) {
                return fail(pg_failure(what, e));
            }
        }
    }

    PgDb(PgUrl url, std::size_t connections) : m_url(std::move(url)), m_capacity(connections) {}
    std::unique_ptr<pqxx::connection> connect() const;
    void give_back(std::unique_ptr<pqxx::connection> conn);

    PgUrl m_url;
    std::size_t m_capacity;
    std::mutex m_mutex;
    std::condition_variable m_freed;
    std::vector<std::unique_ptr<pqxx::connection>> m_idle;
    std::size_t m_open = 0;  // connections lent out or idle
};

}  // namespace satload::store
