// The fixture of the metadata-store suites that run on both backends: a SqliteMetaStore on a
// file in a TempDir, or a PgMetaStore in a schema of its own on the test server, with the few
// looks around the store that the tests need (row counts, the recorded schema version).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "pg_test_util.h"
#include "store/pg_meta_store.h"
#include "store/sqlite_meta_store.h"
#include "store_test_util.h"

namespace satload::store::testing {

// The first column of the first row of `sql` on an SQLite file, through a connection of its own.
inline std::string sqlite_query(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    std::string out;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(s, 0);
        out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(s);
    sqlite3_close(raw);
    return out;
}

// A small upload, and its file as complete_upload records it.
inline UploadRecord make_upload(std::uint32_t seed) {
    UploadRecord u;
    u.upload_id = make_upload_id(seed);
    u.file_id = make_file_id(seed);
    u.length_bytes = 100;
    u.metadata = "";
    u.created_s = 1000;
    u.expires_s = 2000;
    return u;
}

inline FileRecord make_file(const UploadRecord& u) {
    FileRecord f;
    f.file_id = u.file_id;
    f.size_bytes = 100;
    f.sha256_hex = std::string(64, 'c');
    f.xxh3_hex = std::string(32, 'd');
    f.meta = "bWV0YQ";
    f.created_s = 1500;
    return f;
}

// Records a complete file made from upload `seed` with the given fields.
inline FileRecord add_file(MetaStore& db, std::uint32_t seed, const FileRecord& fields) {
    const UploadRecord u = make_upload(seed);
    EXPECT_TRUE(db.create_upload(u));
    FileRecord f = fields;
    f.file_id = u.file_id;
    auto r = db.complete_upload(u.upload_id, f);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return f;
}

class MetaStoreBackendTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) {
            SATLOAD_REQUIRE_PG();
            m_schema = std::make_unique<PgTestSchema>();
        }
        m_store = open_store();
        ASSERT_TRUE(m_store);
    }

    [[nodiscard]] bool postgres() const { return GetParam() == DbBackend::postgres; }
    MetaStore* store() { return m_store.get(); }

    // Another store on the same database: the SQLite file opened again, or a PgMetaStore with a
    // pool of its own on the same schema (what another server process sees).
    std::unique_ptr<MetaStore> open_store() {
        if (postgres()) {
            auto pg = m_schema->open();
            if (!pg) return nullptr;
            auto s = PgMetaStore::open(pg);
            EXPECT_TRUE(s) << (s ? "" : s.error().message);
            if (!s) return nullptr;
            return std::move(*s);
        }
        auto s = SqliteMetaStore::open(sqlite_file());
        EXPECT_TRUE(s) << (s ? "" : s.error().message);
        if (!s) return nullptr;
        return std::move(*s);
    }
    // Closes the fixture's store and opens it again (a restart).
    void reopen() {
        m_store.reset();
        m_store = open_store();
        ASSERT_TRUE(m_store);
    }

    // The rows of `table` (a constant of the test, perhaps with a WHERE clause), counted
    // around the store.
    std::string count_rows(const std::string& table) {
        const std::string sql = "SELECT count(*) FROM " + table;
        if (postgres()) {
            auto pg = static_cast<PgMetaStore*>(m_store.get())->db();
            auto n = pg->transact("count",
                                  [&](pqxx::work& w) { return w.exec1(sql)[0].as<std::string>(); });
            EXPECT_TRUE(n) << (n ? "" : n.error().message);
            return n ? *n : std::string();
        }
        return sqlite_query(sqlite_file(), sql);
    }

    // The schema version the database records for the metadata store.
    int schema_version() {
        auto v = postgres()
                     ? static_cast<PgMetaStore*>(m_store.get())->db()->version(kPgMetaComponent)
                     : static_cast<SqliteMetaStore*>(m_store.get())->schema_version();
        EXPECT_TRUE(v) << (v ? "" : v.error().message);
        return v ? *v : -1;
    }
    // The version this program writes on the backend under test.
    [[nodiscard]] int current_schema_version() const {
        return postgres() ? kPgMetaSchemaVersion : kSqliteMetaSchemaVersion;
    }

    [[nodiscard]] std::filesystem::path sqlite_file() const {
        return m_dir.path() / "sub" / "meta.db";
    }

    TempDir m_dir;
    std::unique_ptr<PgTestSchema> m_schema;  // declared before the stores: dropped after them
    std::unique_ptr<MetaStore> m_store;
};

}  // namespace satload::store::testing
