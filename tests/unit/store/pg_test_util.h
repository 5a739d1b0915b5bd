// Test support for the PostgreSQL stores of every layer: a fresh schema per test on the server
// named by SATLOAD_TEST_PG_URL (make test starts one), dropped when the test ends, and the
// backend parameter shared by suites that run on SQLite and on PostgreSQL. A PostgreSQL test
// FAILS when SATLOAD_TEST_PG_URL is unset, unless it is set to "skip", so a CI run cannot pass
// without them by accident.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "store/pg_db.h"

namespace satload::store::testing {

enum class DbBackend { sqlite, postgres };

inline std::string db_backend_name(const ::testing::TestParamInfo<DbBackend>& info) {
    return info.param == DbBackend::sqlite ? "Sqlite" : "Postgres";
}

// The server's URL, or nullopt after recording a failure (unset) or a skip ("skip").
// Use through SATLOAD_REQUIRE_PG().
inline const char* pg_test_url() { return std::getenv("SATLOAD_TEST_PG_URL"); }

#define SATLOAD_REQUIRE_PG()                                                                   \
    do {                                                                                       \
        const char* pg_url_ = ::satload::store::testing::pg_test_url();                        \
        if (pg_url_ == nullptr || *pg_url_ == '\0') {                                          \
            FAIL() << "SATLOAD_TEST_PG_URL is not set: start a server with "                   \
                      "`scripts/pg.sh start DIR` and export the URL it prints, or set "        \
                      "SATLOAD_TEST_PG_URL=skip to skip the PostgreSQL tests explicitly";      \
        }                                                                                      \
        if (std::string_view(pg_url_) == "skip") GTEST_SKIP() << "SATLOAD_TEST_PG_URL=skip";   \
    } while (0)

// A schema of its own on the test server: `url()` is a --db URL naming it. The schema and
// everything in it is dropped when this goes (connections to it must be closed first).
class PgTestSchema {
public:
    PgTestSchema() {
        static std::atomic<int> counter{0};
        std::random_device rd;
        m_schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                   std::to_string(rd() % 1'000'000);
        const char* base = pg_test_url();
        const std::string server = base ? base : "";
        m_url = server + (server.find('?') == std::string::npos ? "?" : "&") + "schema=" + m_schema;
    }
    ~PgTestSchema() { (void)PgDb::drop_schema(m_url); }
    PgTestSchema(const PgTestSchema&) = delete;
    PgTestSchema& operator=(const PgTestSchema&) = delete;

    [[nodiscard]] const std::string& url() const { return m_url; }
    [[nodiscard]] const std::string& schema() const { return m_schema; }
    // Opens the schema's database (a small pool: tests are many).
    [[nodiscard]] std::shared_ptr<PgDb> open(std::size_t connections = 4) const {
        auto db = PgDb::open(m_url, connections);
        if (!db) ADD_FAILURE() << "cannot open " << m_schema << ": " << db.error().message;
        return db ? *db : nullptr;
    }

private:
    std::string m_schema;
    std::string m_url;
};

}  // namespace satload::store::testing
