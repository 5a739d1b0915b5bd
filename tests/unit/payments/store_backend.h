// Where a store suite's database lives for its DbBackend parameter: a SQLite file in a
// temporary directory, or a fresh PostgreSQL schema; opening another instance of a store on
// it, as another server process would; and the suites' fixture over one store. Shared by the
// payment and chain store suites.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "store/pg_test_util.h"

namespace satload::store::testing {

class StoreBackend {
public:
    // For postgres, SATLOAD_REQUIRE_PG() must have passed first.
    StoreBackend(DbBackend backend, const std::string& name) {
        if (backend == DbBackend::postgres) {
            m_pg = std::make_unique<PgTestSchema>();
            return;
        }
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : "/tmp") /
                (name + "_" + std::to_string(::getpid()) + "_" +
                 std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
    }
    // Every store opened here must be closed first (the schema goes with its connections).
    ~StoreBackend() {
        m_pg.reset();
        if (!m_dir.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(m_dir, ec);
        }
    }
    StoreBackend(const StoreBackend&) = delete;
    StoreBackend& operator=(const StoreBackend&) = delete;

    // A new instance of the store on this database (its own connections), or nullptr after
    // recording a failure. Sqlite::open takes the file, Pg::open a PgDb.
    template <class Store, class Sqlite, class Pg>
    std::unique_ptr<Store> open() const {
        if (m_pg) {
            auto db = m_pg->open();
            if (!db) return nullptr;
            auto s = Pg::open(std::move(db));
            EXPECT_TRUE(s) << s.error().message;
            return s ? std::move(*s) : nullptr;
        }
        auto s = Sqlite::open(m_dir / "meta.sqlite");
        EXPECT_TRUE(s) << s.error().message;
        return s ? std::move(*s) : nullptr;
    }

private:
    std::filesystem::path m_dir;
    std::unique_ptr<PgTestSchema> m_pg;
};

// A suite over `m_store`, run once per backend: TEST_P over a class deriving from this one,
// instantiated with both DbBackend values.
template <class Store, class Sqlite, class Pg>
class StoreSuite : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) SATLOAD_REQUIRE_PG();
        m_backend = std::make_unique<StoreBackend>(GetParam(), "store_suite");
        m_store = open_store();
        ASSERT_TRUE(m_store);
    }
    void TearDown() override {
        m_store.reset();
        m_backend.reset();  // after the stores: a schema is dropped once its connections are closed
    }
    // Another instance on the same database, as another server process opens it.
    std::unique_ptr<Store> open_store() { return m_backend->open<Store, Sqlite, Pg>(); }

    std::unique_ptr<StoreBackend> m_backend;
    std::unique_ptr<Store> m_store;
};

}  // namespace satload::store::testing
