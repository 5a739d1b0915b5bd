// Test support: a fresh, empty place for a ledger on each backend (a temporary directory for
// SQLite and the checkpoint; a fresh schema on the PostgreSQL server named by
// SATLOAD_TEST_PG_URL), and direct SQL access for tests that tamper with the database.
// PostgreSQL tests FAIL when SATLOAD_TEST_PG_URL is unset, unless it is set to "skip", so a
// CI run cannot pass without them by accident.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <string>

#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/pg_ledger_store.h"
#include "ledger/sqlite_ledger_store.h"

namespace satload::ledger::testing {

enum class Backend { sqlite, postgres };

inline std::string backend_name(Backend b) { return b == Backend::sqlite ? "Sqlite" : "Postgres"; }

inline std::string param_name(const ::testing::TestParamInfo<Backend>& info) {
    return backend_name(info.param);
}

inline bool small_tests() { return std::getenv("SATLOAD_SMALL_TESTS") != nullptr; }

// Call at the start of a test body or SetUp that needs `backend`: for PostgreSQL it FAILS
// when SATLOAD_TEST_PG_URL is unset and skips only when it is explicitly "skip".
#define SATLOAD_REQUIRE_BACKEND(backend)                                                     \
    do {                                                                                     \
        if ((backend) == ::satload::ledger::testing::Backend::postgres) {                    \
            const char* pg_url_ = std::getenv("SATLOAD_TEST_PG_URL");                        \
            if (pg_url_ == nullptr || *pg_url_ == '\0') {                                   \
                FAIL() << "SATLOAD_TEST_PG_URL is not set: start a server with "             \
                          "`scripts/pg.sh start DIR` and export the URL it prints, or set "  \
                          "SATLOAD_TEST_PG_URL=skip to skip the PostgreSQL tests explicitly"; \
            }                                                                                \
            if (std::string_view(pg_url_) == "skip") {                                       \
                GTEST_SKIP() << "SATLOAD_TEST_PG_URL=skip";                                  \
            }                                                                                \
        }                                                                                    \
    } while (0)

inline std::string unique_suffix() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 1'000'000);
}

class Place {
public:
    explicit Place(Backend backend) : m_backend(backend) {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : "/tmp") / ("ledger_" + unique_suffix());
        std::filesystem::create_directories(m_dir);
        if (backend == Backend::postgres) {
            const char* url = std::getenv("SATLOAD_TEST_PG_URL");
            m_url = url ? url : "";
            m_schema = "t_" + unique_suffix();
        }
    }
    // An existing place made by another process (a child of a durability test); not removed.
    Place(Backend backend, std::filesystem::path dir, std::string url, std::string schema)
        : m_backend(backend), m_dir(std::move(dir)), m_url(std::move(url)), m_schema(std::move(schema)),
          m_owned(false) {}
    ~Place() {
        if (!m_owned) return;
        if (m_backend == Backend::postgres && !m_url.empty()) {
            (void)PgLedgerStore::drop_schema(m_url, m_schema);
        }
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
    Place(const Place&) = delete;
    Place& operator=(const Place&) = delete;

    Backend backend() const { return m_backend; }
    const std::filesystem::path& dir() const { return m_dir; }
    std::filesystem::path db_file() const { return m_dir / "ledger.db"; }
    std::filesystem::path checkpoint() const { return checkpoint_path_for(db_file()); }
    const std::string& url() const { return m_url; }
    const std::string& schema() const { return m_schema; }

    StoreResult<std::unique_ptr<LedgerStore>> try_open_store() const {
        if (m_backend == Backend::sqlite) {
            auto s = SqliteLedgerStore::open(db_file());
            if (!s) return fail(s.error());
            return std::unique_ptr<LedgerStore>(std::move(*s));
        }
        auto s = PgLedgerStore::open(m_url, m_schema);
        if (!s) return fail(s.error());
        return std::unique_ptr<LedgerStore>(std::move(*s));
    }

    std::unique_ptr<LedgerStore> open_store() const {
        auto s = try_open_store();
        EXPECT_TRUE(s) << (s ? "" : s.error().message);
        return s ? std::move(*s) : nullptr;
    }

    LedgerResult<std::unique_ptr<Ledger>> open_ledger(LedgerOptions options = {}) const {
        options.checkpoint_file = checkpoint();
        auto store = try_open_store();
        if (!store) {
            return fail(LedgerFailure{store.error().code == StoreError::locked ? LedgerError::locked
                                                                               : LedgerError::store,
                                      store.error().message});
        }
        return Ledger::open(std::move(*store), std::move(options));
    }

    // Runs SQL directly against the database, bypassing the ledger (to tamper with it).
    void exec_sql(const std::string& sql) const {
        if (m_backend == Backend::sqlite) {
            sqlite3* db = nullptr;
            ASSERT_EQ(sqlite3_open(db_file().c_str(), &db), SQLITE_OK);
            char* error = nullptr;
            const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
            EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
            sqlite3_free(error);
            sqlite3_close(db);
            return;
        }
        pqxx::connection c(m_url);
        pqxx::work w(c);
        w.exec("SET search_path TO " + m_schema);
        w.exec(sql);
        w.commit();
    }

private:
    Backend m_backend;
    std::filesystem::path m_dir;
    std::string m_url;
    std::string m_schema;
    bool m_owned = true;
};

}  // namespace satload::ledger::testing
