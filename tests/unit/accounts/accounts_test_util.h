// Shared fixture of the accounts tests: a real SQLite account store in a fresh
// directory, a manual clock, seeded randomness, and a client that derives keys
// as the web app and CLI do.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "accounts/account_service.h"
#include "accounts/sqlite_account_store.h"
#include "core/check.h"
#include "files/clock.h"

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

class AccountsTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fresh_dir("accounts");
        open_service();
    }
    void TearDown() override {
        m_service.reset();
        m_store.reset();
        std::filesystem::remove_all(m_dir);
    }
    void open_service() {
        m_service.reset();
        m_store.reset();
        auto store = SqliteAccountStore::open(m_dir / "accounts.sqlite");
        ASSERT_TRUE(store) << store.error().message;
        m_store = std::move(*store);
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

    std::filesystem::path m_dir;
    files::ManualClock m_clock{1'700'000'000};
    crypto::RandomSource m_random = seeded_random(kSeed + 1);
    std::unique_ptr<SqliteAccountStore> m_store;
    std::unique_ptr<AccountService> m_service;
};

}  // namespace satload::accounts::testing
