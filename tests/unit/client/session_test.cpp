// Pins down which credential the client runs with: the session file round-trips (mode 0600),
// SATLOAD_TOKEN overrides it as a token-only credential (no usable master key) on the server of
// SATLOAD_SERVER or else of the stored session, and a token that could not go into a header or
// has no server to go to is refused before any request.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "client/account.h"
#include "client/test_util.h"

namespace satload::client {
namespace {

// Sets (or unsets, for nullptr) an environment variable for one test, restoring it after.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        if (value != nullptr)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (m_old)
            ::setenv(m_name.c_str(), m_old->c_str(), 1);
        else
            ::unsetenv(m_name.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string m_name;
    std::optional<std::string> m_old;
};

Session stored_session(std::string_view server) {
    Session s;
    s.server = *parse_server_url(server);
    s.username = "alice";
    s.token = "sls_" + std::string(43, 'A');
    for (std::size_t i = 0; i < crypto::kAccountKeyBytes; ++i) {
        s.master_key.mutable_bytes()[i] = static_cast<std::uint8_t>(i + 1);
    }
    return s;
}

const std::string kApiToken = "sla_" + std::string(43, 'b');

// Without SATLOAD_TOKEN the session file is the credential, with its master key, and it is
// private to the user.
TEST(Session, StoredSessionRoundTrips) {
    ScopedEnv token(std::string(kTokenEnv).c_str(), nullptr);
    testing::TempDir home;
    const Session saved = stored_session("http://127.0.0.1:9000");
    ASSERT_TRUE(save_session(home.path(), saved));
    struct stat st {};
    ASSERT_EQ(::stat((home.path() / kSessionFileName).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto loaded = load_session(home.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->token_only);
    EXPECT_EQ(loaded->token, saved.token);
    EXPECT_EQ(loaded->username, "alice");
    EXPECT_TRUE(loaded->master_key == saved.master_key);
}

// SATLOAD_TOKEN wins over the session file; its server is SATLOAD_SERVER when set, else the
// stored session's; the master key is not the stored one (a token unlocks no key).
TEST(Session, TokenOverridesTheSessionFile) {
    testing::TempDir home;
    const Session saved = stored_session("http://127.0.0.1:9000");
    ASSERT_TRUE(save_session(home.path(), saved));
    ScopedEnv token(std::string(kTokenEnv).c_str(), kApiToken.c_str());
    {
        ScopedEnv server(std::string(kServerEnv).c_str(), "http://127.0.0.1:9100");
        auto loaded = load_session(home.path());
        ASSERT_TRUE(loaded) << loaded.error().message;
        EXPECT_TRUE(loaded->token_only);
        EXPECT_EQ(loaded->token, kApiToken);
        EXPECT_EQ(loaded->server.text(), "http://127.0.0.1:9100");
        EXPECT_FALSE(loaded->master_key == saved.master_key);
    }
    ScopedEnv server(std::string(kServerEnv).c_str(), nullptr);
    auto loaded = load_session(home.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_TRUE(loaded->token_only);
    EXPECT_EQ(loaded->server.text(), "http://127.0.0.1:9000");
}

// A token alone, with no server named anywhere, is refused with a message naming
// SATLOAD_SERVER; so is a token with spaces or control characters (it would break the
// Authorization header) or one longer than kMaxTokenChars. An empty SATLOAD_TOKEN is unset.
TEST(Session, UnusableTokensAreRefused) {
    testing::TempDir empty_home;
    ScopedEnv server(std::string(kServerEnv).c_str(), nullptr);
    {
        ScopedEnv token(std::string(kTokenEnv).c_str(), kApiToken.c_str());
        auto loaded = load_session(empty_home.path());
        ASSERT_FALSE(loaded);
        EXPECT_EQ(loaded.error().code, ErrorCode::bad_argument);
        EXPECT_NE(loaded.error().message.find("SATLOAD_SERVER"), std::string::npos);
    }
    ScopedEnv named(std::string(kServerEnv).c_str(), "http://127.0.0.1:9100");
    const std::string too_long(kMaxTokenChars + 1, 'a');
    const std::string at_limit(kMaxTokenChars, 'a');
    for (const std::string& bad :
         {std::string("sla_abc\r\nX-Evil: 1"), std::string("sla abc"), too_long}) {
        ScopedEnv token(std::string(kTokenEnv).c_str(), bad.c_str());
        auto loaded = load_session(empty_home.path());
        ASSERT_FALSE(loaded) << bad;
        EXPECT_EQ(loaded.error().code, ErrorCode::bad_argument);
        EXPECT_EQ(loaded.error().message.find(bad), std::string::npos) << "the token is not echoed";
    }
    {
        ScopedEnv token(std::string(kTokenEnv).c_str(), at_limit.c_str());
        EXPECT_TRUE(load_session(empty_home.path()));
    }
    ScopedEnv token(std::string(kTokenEnv).c_str(), "");
    auto loaded = load_session(empty_home.path());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, ErrorCode::not_found);
}

// The commands that need the password refuse a token-only credential before any request (no
// server listens at the address used here).
TEST(Session, PasswordChangeAndTokenCreationNeedALoginSession) {
    Session s = stored_session("http://127.0.0.1:1");
    s.token_only = true;
    auto changed = change_password(s, "old", "new", {});
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().code, ErrorCode::bad_argument);
    auto created = create_api_token(s, "name", {});
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().code, ErrorCode::bad_argument);
}

// A mistyped recovery key is caught by its checksum before any request.
TEST(Session, RecoveryRefusesAMistypedKey) {
    const ServerUrl server = *parse_server_url("http://127.0.0.1:1");
    crypto::RecoveryKey key;
    for (std::size_t i = 0; i < crypto::kAccountKeyBytes; ++i)
        key.mutable_bytes()[i] = static_cast<std::uint8_t>(7 * i);
    std::string text = crypto::recovery_key_to_text(key);
    text[3] = text[3] == '0' ? '1' : '0';
    auto r = recover_account(server, "alice", text, "new password", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::bad_argument);
}

}  // namespace
}  // namespace satload::client
