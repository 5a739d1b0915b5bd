// Pins down that the account database never holds a password, auth key, master key, recovery
// key or file secret (or a session/API token) in any encoding, after a full account session, on
// each backend.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "accounts_test_util.h"

namespace satload::accounts {
namespace {

using testing::AccountsBackendTest;
using store::testing::DbBackend;
using testing::Client;

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every file of the database directory (main file, -wal, -shm), concatenated.
std::string database_bytes(const std::filesystem::path& dir) {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        all += read_all(entry.path());
    }
    return all;
}

// Every value of every table of the PostgreSQL schema: byte columns as stored (raw), the rest
// as text.
std::string database_bytes(const std::string& pg_url) {
    auto url = store::parse_pg_url(pg_url);
    EXPECT_TRUE(url);
    if (!url) return {};
    pqxx::connection c(url->conninfo);
    pqxx::work w(c);
    std::string all;
    for (const auto& col : w.exec_params("SELECT table_name, column_name, data_type FROM "
                                         "information_schema.columns WHERE table_schema = $1",
                                         url->schema)) {
        const bool raw = col[2].as<std::string>() == "bytea";
        const std::string sql = "SELECT " + c.quote_name(col[1].as<std::string>()) + (raw ? "" : "::text") +
                                " FROM " + c.quote_name(url->schema) + "." + c.quote_name(col[0].as<std::string>());
        for (const auto& value : w.exec(sql)) {
            if (value[0].is_null()) continue;
            all += raw ? pqxx::binarystring(value[0]).str() : value[0].as<std::string>();
            all += '\n';
        }
    }
    return all;
}

std::string upper(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return s;
}

// The forms a secret could leak in: raw bytes, hex (both cases), base64 and base64url.
std::vector<std::string> encodings(ByteSpan secret) {
    return {std::string(as_chars(secret)), hex_encode(secret), upper(hex_encode(secret)),
            base64_encode(secret), base64url_encode(secret)};
}

Bytes copy(ByteSpan b) { return Bytes(b.begin(), b.end()); }

TEST_P(AccountsBackendTest, DatabaseHoldsNoSecretInAnyEncoding) {
    // Real passwords through Argon2id: two derivations (registration and change).
    Client alice = registered("alice", "correct horse battery staple");
    std::vector<std::pair<std::string, Bytes>> secrets = {
        {"password", copy(as_bytes("correct horse battery staple"))},
        {"password key", copy(alice.password_key.bytes())},
        {"auth key", copy(alice.auth_key.bytes())},
        {"master key", copy(alice.master_key.bytes())},
        {"recovery key", copy(alice.recovery_key.bytes())},
        {"recovery text", copy(as_bytes(crypto::recovery_key_to_text(alice.recovery_key)))},
        {"recovery wrap key", copy(crypto::derive_recovery_wrap_key(alice.recovery_key).bytes())},
        {"recovery auth key", alice.recovery_auth()},
    };

    const LoginGrant session = logged_in(alice);
    secrets.emplace_back("session token", copy(as_bytes(session.token)));
    secrets.emplace_back("session token bytes",
                         *base64url_decode(session.token.substr(kSessionTokenPrefix.size())));
    const Principal a = session.principal;
    crypto::FileSecret file_secret{};
    m_random(file_secret);
    secrets.emplace_back("file secret", copy(file_secret));
    ASSERT_TRUE(m_service->add_file(
        a,
        NewOwnedFile{
            "file1", crypto::wrap_file_secret(alice.master_key, file_secret, m_random), 4096, {}}));
    auto api = m_service->create_api_token(a, "script");
    ASSERT_TRUE(api);
    secrets.emplace_back("api token", copy(as_bytes(api->token)));
    secrets.emplace_back("api token bytes",
                         *base64url_decode(api->token.substr(kApiTokenPrefix.size())));

    Client changed = Client::make("alice", m_random);
    changed.master_key = alice.master_key;
    changed.set_password(m_random, "tr0ub4dor&3");
    ASSERT_TRUE(m_service->change_password(a, alice.auth(), changed.new_password(m_random), "x"));
    secrets.emplace_back("new password", copy(as_bytes("tr0ub4dor&3")));
    secrets.emplace_back("new password key", copy(changed.password_key.bytes()));
    secrets.emplace_back("new auth key", copy(changed.auth_key.bytes()));
    ASSERT_TRUE(m_service->list_files(a, "", 10));

    // Scanned with the database open (SQLite: WAL not yet checkpointed) and again once closed.
    for (int pass = 0; pass < 2; ++pass) {
        const std::string db =
            m_db->backend() == DbBackend::sqlite ? database_bytes(m_dir) : database_bytes(m_db->pg_url());
        // Positive controls: the scan sees real rows, and a stored hash in raw form.
        ASSERT_NE(db.find("alice"), std::string::npos);
        ASSERT_NE(db.find(as_chars(crypto::auth_key_hash(changed.auth_key.bytes()))),
                  std::string::npos);
        for (const auto& [name, secret] : secrets) {
            for (const auto& form : encodings(secret)) {
                EXPECT_EQ(db.find(form), std::string::npos) << name << " found in the database";
            }
        }
        m_service.reset();
        m_store.reset();
    }
}

// AccountsBackendTest is instantiated on both backends once, in account_service_test.cpp.

}  // namespace
}  // namespace satload::accounts
