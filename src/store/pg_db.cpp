// PgDb: the connection pool, URL handling and versioned migrations shared by the PostgreSQL
// stores. libpqxx has no pool of its own; this one is a mutex, a condition variable and a
// list of idle connections, which is all a bounded pool of blocking connections needs.
#include "store/pg_db.h"

#include <limits>
#include <stdexcept>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace satload::store {

namespace {

// Migrations of all components are recorded in one table; taking this advisory lock (inside
// the migrating transaction) makes instances that start together apply each step once.
constexpr std::string_view kMigrationsTable = "satload_migrations";
constexpr std::int64_t kMigrationLockKey = 0x7361746c6f6164;  // "satload"

}  // namespace

bool is_pg_url(std::string_view url) {
    return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

bool valid_pg_schema_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;  // PostgreSQL's identifier limit
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

StoreResult<PgUrl> parse_pg_url(std::string_view text) {
    if (!is_pg_url(text)) {
        return fail(StoreFailure{StoreError::io, "a database URL starts with postgresql://"});
    }
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) {
        return fail(StoreFailure{StoreError::io, "malformed database URL: " + parsed.error().message()});
    }
    // libpq knows no fragment: it would read "#…" as part of the database name or of a
    // parameter, so libpq and this parser (which finds `schema`) would read two different URLs.
    if (parsed->has_fragment()) {
        return fail(StoreFailure{StoreError::io, "a database URL has no #fragment"});
    }
    boost::urls::url url = *parsed;
    PgUrl out;
    out.schema = std::string(kPgDefaultSchema);
    auto params = url.params();
    // One `schema` at most: with two, which tenant's tables the server opens would hang on
    // which one wins (and the other, perhaps invalid, would pass unseen).
    if (params.count("schema") > 1) {
        return fail(
            StoreFailure{StoreError::io, "the database URL names its schema more than once"});
    }
    if (auto it = params.find("schema"); it != params.end()) {
        out.schema = std::string((*it).value);
        params.erase(it);
    }
    if (!valid_pg_schema_name(out.schema)) {
        return fail(StoreFailure{StoreError::io, "invalid schema name in the database URL (a-z, 0-9 "
                                                 "and _, not starting with a digit, at most 63)"});
    }
    if (url.params().empty()) url.remove_query();
    out.conninfo = std::string(url.buffer());
    return out;
}

StoreFailure pg_failure(std::string_view what, const std::exception& e) {
    if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
        return StoreFailure{StoreError::exists, std::string(what) + ": already exists"};
    }
    // libpqxx's messages carry the server's error text, not parameter values.
    std::string message(e.what());
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return StoreFailure{StoreError::io, std::string(what) + ": " + message};
}

bool pg_storable(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<unsigned char>(s[i]);
        if (lead == 0) return false;
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t follow = 0;
        std::uint32_t cp = 0;
        if ((lead & 0xE0) == 0xC0) {
            follow = 1;
            cp = lead & 0x1FU;
        } else if ((lead & 0xF0) == 0xE0) {
            follow = 2;
            cp = lead & 0x0FU;
        } else if ((lead & 0xF8) == 0xF0) {
            follow = 3;
            cp = lead & 0x07U;
        } else {
            return false;  // a continuation byte first, or 0xF8 and above
        }
        if (s.size() - i <= follow) return false;  // cut short
        for (std::size_t k = 1; k <= follow; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3FU);
        }
        // Overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
        constexpr std::uint32_t kLeast[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kLeast[follow] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += follow + 1;
    }
    return true;
}

StoreFailure pg_unstorable(std::string_view what) {
    return StoreFailure{StoreError::io, std::string(what) + " holds a NUL byte or is not UTF-8"};
}

StoreResult<std::int64_t> pg_bigint(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return fail(StoreFailure{StoreError::io, "value too large for the database"});
    }
    return static_cast<std::int64_t>(value);
}

StoreResult<std::optional<std::int64_t>> pg_bigint(const std::optional<std::uint64_t>& value) {
    if (!value) return std::optional<std::int64_t>();
    auto v = pg_bigint(*value);
    if (!v) return fail(v.error());
    return std::optional<std::int64_t>(*v);
}

std::int64_t pg_limit(std::size_t limit) {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const auto wide = static_cast<std::uint64_t>(limit);
    return static_cast<std::int64_t>(wide > max ? max : wide);
}

std::uint64_t pg_u64(const pqxx::field& f) {
    const auto v = f.as<std::int64_t>();
    if (v < 0) throw std::runtime_error(std::string("column ") + f.name() + " is negative");
    return static_cast<std::uint64_t>(v);
}

StoreResult<std::shared_ptr<PgDb>> PgDb::open(std::string_view url, std::size_t connections) {
    auto parsed = parse_pg_url(url);
    if (!parsed) return fail(parsed.error());
    if (connections == 0 || connections > kPgPoolConnectionsMax) {
        return fail(StoreFailure{StoreError::io, "the database pool holds 1 to " +
                                                     std::to_string(kPgPoolConnectionsMax) + " connections"});
    }
    std::shared_ptr<PgDb> db(new PgDb(std::move(*parsed), connections));
    try {
        pqxx::connection setup(db->m_url.conninfo);
        pqxx::nontransaction n(setup);
        n.exec("CREATE SCHEMA IF NOT EXISTS " + setup.quote_name(db->m_url.schema));
    } catch (const pqxx::unique_violation&) {
        // Two instances created the schema at the same moment: it exists, which is the point.
    } catch (const std::exception& e) {
        return fail(pg_failure("connect to the database", e));
    }
    return db;
}

PgDb::~PgDb() = default;

std::unique_ptr<pqxx::connection> PgDb::connect() const {
    auto c = std::make_unique<pqxx::connection>(m_url.conninfo);
    pqxx::nontransaction n(*c);
    // Durable at commit whatever the server's default; our schema first, nothing else on the
    // path (no table of another schema can stand in for ours).
    n.exec("SET synchronous_commit TO on");
    n.exec("SET search_path TO " + c->quote_name(m_url.schema));
    return c;
}

StoreResult<PgDb::Lease> PgDb::acquire() {
    std::unique_lock lock(m_mutex);
    const auto deadline = std::chrono::steady_clock::now() + kPgAcquireTimeout;
    while (m_idle.empty() && m_open >= m_capacity) {
        if (m_freed.wait_until(lock, deadline) == std::cv_status::timeout && m_idle.empty() &&
            m_open >= m_capacity) {
            return fail(StoreFailure{StoreError::io, "no database connection free within " +
                                                         std::to_string(kPgAcquireTimeout.count()) + " s"});
        }
    }
    if (!m_idle.empty()) {
        auto conn = std::move(m_idle.back());
        m_idle.pop_back();
        return Lease(this, std::move(conn));
    }
    ++m_open;  // reserve the slot, connect without the lock
    lock.unlock();
    try {
        return Lease(this, connect());
    } catch (const std::exception& e) {
        give_back(nullptr);
        return fail(pg_failure("connect to the database", e));
    }
}

void PgDb::give_back(std::unique_ptr<pqxx::connection> conn) {
    {
        std::lock_guard lock(m_mutex);
        if (conn && conn->is_open()) {
            m_idle.push_back(std::move(conn));
        } else {
            --m_open;  // broken or never made: the slot frees, the next borrower connects anew
        }
    }
    m_freed.notify_one();
}

PgDb::Lease::~Lease() {
    if (m_db != nullptr && m_conn) m_db->give_back(std::move(m_conn));
}

StoreResult<int> PgDb::version(std::string_view component) {
    return transact("read the schema version", [&](pqxx::work& w) {
        const auto exists = w.exec_params1("SELECT to_regclass($1) IS NOT NULL",
                                           std::string(kMigrationsTable));
        if (!exists[0].as<bool>()) return 0;
        const auto r = w.exec_params1("SELECT coalesce(max(version), 0) FROM satload_migrations "
                                      "WHERE component = $1",
                                      std::string(component));
        return r[0].as<int>();
    });
}

StoreResult<int> PgDb::migrate(std::string_view component, std::span<const std::string_view> steps) {
    const int target = static_cast<int>(steps.size());
    std::optional<int> before;
    for (;;) {
        // One step per transaction, each under the lock: a step that fails leaves the earlier
        // ones applied and recorded.
        auto step = transact("migrate " + std::string(component), [&](pqxx::work& w) -> StoreResult<bool> {
            w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
            w.exec("CREATE TABLE IF NOT EXISTS satload_migrations ("
                   "component TEXT NOT NULL, version INTEGER NOT NULL, "
                   "applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))");
            const int current = w.exec_params1("SELECT coalesce(max(version), 0) FROM satload_migrations "
                                               "WHERE component = $1",
                                               std::string(component))[0]
                                    .as<int>();
            if (!before) before = current;
            if (current > target) {
                return fail(StoreFailure{StoreError::io, "the database's " + std::string(component) +
                                                             " schema is version " + std::to_string(current) +
                                                             ", newer than this program's " +
                                                             std::to_string(target)});
            }
            if (current == target) return false;
            w.exec(std::string(steps[static_cast<std::size_t>(current)]));
            w.exec_params("INSERT INTO satload_migrations (component, version) VALUES ($1, $2)",
                          std::string(component), current + 1);
            return true;
        });
        if (!step) return fail(step.error());
        if (!*step) break;
    }
    return before.value_or(target);
}

StoreResult<void> PgDb::drop_schema(std::string_view url) {
    auto parsed = parse_pg_url(url);
    if (!parsed) return fail(parsed.error());
    try {
        pqxx::connection c(parsed->conninfo);
        pqxx::nontransaction n(c);
        n.exec("DROP SCHEMA IF EXISTS " + c.quote_name(parsed->schema) + " CASCADE");
    } catch (const std::exception& e) {
        return fail(pg_failure("drop the schema", e));
    }
    return {};
}

}  // namespace satload::store
