// Shared fixture of the accounts tests: a real account store (SQLite in a fresh
// directory, or PostgreSQL in a fresh schema), a manual clock, seeded randomness,
// and a client that derives keys as the web app and CLI do.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "accounts/account_service.h"
#include "accounts/cached_account_store.h"
#include "accounts/pg_account_store.h"
#include "accounts/sqlite_account_store.h"
#include "core/check.h"
#include "files/clock.h"
#include "store/pg_test_util.h"

namespace satload::accounts::testing {

inline constexpr std::uint64_t kSeed = 0x5a71'0ad0'acc0'0175ULL;

// A reproducible RandomSource (tests only: never for real keys).
inline crypto::RandomSource seeded_random(std::uint64_t seed) {
    auto engine = std::make_shared<std::mt19937_64>(seed);
    return [engine](std::span<std::uint8_t> out) {
        for (auto& b : out) b = static_cast<std::uint8_t>((*engine)() & 0xff);
    };
}

inline std::filesystem::path fresh_dir(const std::string& name) {
    const char* base = std::getenv("SATLOAD_TEST_TMP");
    auto dir =
        std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
        (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    return dir;
}

// The client side of an account: its keys, and the requests it sends. Password
// keys come from the random source (fast) unless a real password is given
// (Argon2id, ~0.2 s each).
struct Client {
    std::string username;
    crypto::AccountSalt salt{};
    crypto::PasswordKey password_key;
    crypto::AuthKey auth_key;
    crypto::MasterKey master_key;
    crypto::RecoveryKey recovery_key;

    static Client make(const std::string& username, const crypto::RandomSource& random,
                       std::optional<std::string> password = std::nullopt) {
        Client c;
        c.username = username;
        c.master_key = crypto::random_master_key(random);
        c.recovery_key = crypto::random_recovery_key(random);
        c.set_password(random, password);
        return c;
    }
    void set_password(const crypto::RandomSource& random, std::optional<std::string> password) {
        salt = crypto::random_account_salt(random);
        if (password) {
            auto keys = crypto::derive_password_keys(*password, salt);
            SATLOAD_ASSERT(keys.has_value());
            password_key = keys->password_key;
            auth_key = keys->auth_key;
        } else {
            random(password_key.mutable_bytes());
            random(auth_key.mutable_bytes());
        }
    }
    [[nodiscard]] Bytes auth() const {
        return Bytes(auth_key.bytes().begin(), auth_key.bytes().end());
    }
    [[nodiscard]] Bytes recovery_auth() const {
        const auto k = crypto::derive_recovery_auth_key(recovery_key);
        return Bytes(k.bytes().begin(), k.bytes().end());
    }
    [[nodiscard]] NewPassword new_password(const crypto::RandomSource& random) const {
        return NewPassword{salt, auth(), crypto::wrap_master_key(password_key, master_key, random)};
    }
    [[nodiscard]] Registration registration(const crypto::RandomSource& random) const {
        Registration r;
        r.username = username;
        r.password = new_password(random);
        r.recovery_auth_key = recovery_auth();
        r.master_by_recovery = crypto::wrap_master_key(
            crypto::derive_recovery_wrap_key(recovery_key), master_key, random);
        return r;
    }
};

using store::testing::DbBackend;

// One account database of either backend, on which any number of store instances
// can be opened: several instances on one database stand for several server
// processes sharing it. Instances must be closed before this goes.
class AccountDb {
public:
    // Connections per PostgreSQL instance: tests are many and run side by side.
    static constexpr std::size_t kPgConnections = 2;

    explicit AccountDb(DbBackend backend) : m_backend(backend) {
        if (backend == DbBackend::sqlite) {
            m_dir = fresh_dir("accounts");
        } else {
            m_pg.emplace();
        }
    }
    ~AccountDb() {
        if (!m_dir.empty()) std::filesystem::remove_all(m_dir);
    }
    AccountDb(const AccountDb&) = delete;
    AccountDb& operator=(const AccountDb&) = delete;

    StoreResult<std::unique_ptr<AccountStore>> open() {
        if (m_backend == DbBackend::sqlite) {
            auto s = SqliteAccountStore::open(m_dir / "accounts.sqlite");
            if (!s) return fail(s.error());
            return std::unique_ptr<AccountStore>(std::move(*s));
        }
        auto db = store::PgDb::open(m_pg->url(), kPgConnections);
        if (!db) return fail(db.error());
        auto s = PgAccountStore::open(std::move(*db));
        if (!s) return fail(s.error());
        return std::unique_ptr<AccountStore>(std::move(*s));
    }
    [[nodiscard]] DbBackend backend() const { return m_backend; }
    // The SQLite database's directory (empty on PostgreSQL).
    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }
    // The PostgreSQL schema's URL (empty on SQLite).
    [[nodiscard]] std::string pg_url() const { return m_pg ? m_pg->url() : std::string(); }

private:
    DbBackend m_backend;
    std::filesystem::path m_dir;
    std::optional<store::testing::PgTestSchema> m_pg;
};

// The service over a store of the parameter's backend (instantiated on both in
// account_service_test.cpp).
class AccountsBackendTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) SATLOAD_REQUIRE_PG();
        m_db.emplace(GetParam());
        m_dir = m_db->dir();
        open_service();
    }
    void TearDown() override {
        m_service.reset();
        m_store.reset();
        m_db.reset();
    }
    void open_service() {
        m_service.reset();
        m_store.reset();
        auto store = m_db->open();
        ASSERT_TRUE(store) << store.error().message;
        m_store = std::move(*store);
        // As the server runs them: the embedded store with its reads kept in memory
        // (cached_account_store_test.cpp pins the cache down), PostgreSQL without.
        if (GetParam() == DbBackend::sqlite)
            m_store = std::make_unique<CachedAccountStore>(std::move(m_store));
        AccountServiceOptions options;
        options.fake_salt_secret = Bytes(kFakeSaltSecretBytes, 0x42);
        m_service = std::make_unique<AccountService>(*m_store, m_clock, std::move(options),
                                                     seeded_random(kSeed));
    }
    Client registered(const std::string& username,
                      std::optional<std::string> password = std::nullopt) {
        Client c = Client::make(username, m_random, password);
        auto id = m_service->register_account(c.registration(m_random));
        EXPECT_TRUE(id) << (id ? "" : id.error().message);
        return c;
    }
    LoginGrant logged_in(const Client& c, std::string_view address = "192.0.2.1") {
        auto grant = m_service->login(c.username, c.auth(), address);
        EXPECT_TRUE(grant);
        return grant ? *grant : LoginGrant{};
    }

    std::optional<AccountDb> m_db;
    std::filesystem::path m_dir;  // SQLite only
    files::ManualClock m_clock{1'700'000'000};
    crypto::RandomSource m_random = seeded_random(kSeed + 1);
    std::unique_ptr<AccountStore> m_store;
    std::unique_ptr<AccountService> m_service;
};

}  // namespace satload::accounts::testing
