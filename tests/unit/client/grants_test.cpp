// Grant storage under SATLOAD_HOME: round trip, file mode, strict parsing, paths that cannot
// climb, and the L402 Authorization value built from a grant.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "client/grants.h"
#include "test_util.h"

namespace satload::client {
namespace {

using testing::TempDir;

constexpr std::string_view kFileId = "eRWGyhTojxf_sJpy3QQrGQ";
const std::string kPreimage(64, 'a');

StoredGrant sample_grant() {
    StoredGrant g;
    g.macaroon = "AgJCAAAtest+/macaroon==";
    g.preimage = kPreimage;
    g.expires_s = 1'900'000'000;
    g.server = "http://127.0.0.1:8080";
    return g;
}

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
}

// A saved grant reads back field for field, lives at grants/<id>.json, and is private to the
// user (file 0600, directory 0700): it is a bearer credential.
TEST(Grants, SaveLoadRoundTripIsPrivate) {
    TempDir home;
    ASSERT_TRUE(save_grant(home.path(), kFileId, sample_grant()));
    const auto path = home.path() / "grants" / (std::string(kFileId) + ".json");
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(mode_of(path.parent_path()), 0700u);
    auto loaded = load_grant(home.path(), kFileId);
    ASSERT_TRUE(loaded);
    ASSERT_TRUE(loaded->has_value());
    const StoredGrant& g = **loaded;
    EXPECT_EQ(g.macaroon, sample_grant().macaroon);
    EXPECT_EQ(g.preimage, kPreimage);
    EXPECT_EQ(g.expires_s, 1'900'000'000);
    EXPECT_EQ(g.server, "http://127.0.0.1:8080");
}

// No grant file is "no grant", not an error; removing twice is fine.
TEST(Grants, AbsentIsNulloptAndRemoveIsIdempotent) {
    TempDir home;
    auto none = load_grant(home.path(), kFileId);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(save_grant(home.path(), kFileId, sample_grant()));
    ASSERT_TRUE(remove_grant(home.path(), kFileId));
    ASSERT_TRUE(remove_grant(home.path(), kFileId));
    auto gone = load_grant(home.path(), kFileId);
    ASSERT_TRUE(gone);
    EXPECT_FALSE(gone->has_value());
}

// The documented keys: macaroon, preimage, expires (and the server the grant is for).
TEST(Grants, JsonHasTheDocumentedFields) {
    const std::string text = grant_to_json(sample_grant());
    EXPECT_NE(text.find("\"macaroon\":\"AgJCAAAtest+/macaroon==\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"preimage\":\"" + kPreimage + "\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"expires\":1900000000"), std::string::npos) << text;
    auto back = grant_from_json(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->expires_s, 1'900'000'000);
    // The server field is optional (a grant file written by hand without it still works).
    auto without =
        grant_from_json(R"({"macaroon":"AgJC","preimage":")" + kPreimage + R"(","expires":5})");
    ASSERT_TRUE(without);
    EXPECT_EQ(without->server, "");
}

// Anything malformed is refused rather than sent to a server: wrong types, a short or
// upper-case preimage, a macaroon with characters outside base64, a missing expiry.
TEST(Grants, MalformedFilesAreRefused) {
    const std::string good_pre = "\"" + kPreimage + "\"";
    const std::vector<std::string> bad = {
        "",
        "[]",
        "{}",
        R"({"macaroon":"AgJC","preimage":)" + good_pre + "}",
        R"({"macaroon":"AgJC","preimage":)" + good_pre + R"(,"expires":"5"})",
        R"({"macaroon":"AgJC","preimage":)" + good_pre + R"(,"expires":0})",
        R"({"macaroon":"AgJC","preimage":"abcd","expires":5})",
        R"({"macaroon":"AgJC","preimage":")" + std::string(64, 'A') + R"(","expires":5})",
        R"({"macaroon":"Ag JC","preimage":)" + good_pre + R"(,"expires":5})",
        R"({"macaroon":"Ag\"C","preimage":)" + good_pre + R"(,"expires":5})",
        R"({"macaroon":"AgJC===","preimage":)" + good_pre + R"(,"expires":5})",
        R"({"macaroon":"","preimage":)" + good_pre + R"(,"expires":5})",
        R"({"macaroon":"AgJC","preimage":)" + good_pre + R"(,"expires":5,"server":7})",
    };
    for (const auto& text : bad) {
        auto g = grant_from_json(text);
        ASSERT_FALSE(g) << text;
        EXPECT_EQ(g.error().code, ErrorCode::state) << text;
    }
    // A malformed file on disk surfaces as an error (the caller ignores it and goes on).
    TempDir home;
    std::filesystem::create_directories(home.path() / "grants");
    std::ofstream(home.path() / "grants" / (std::string(kFileId) + ".json")) << "{\"macaroon\":1}";
    auto loaded = load_grant(home.path(), kFileId);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, ErrorCode::state);
}

// File ids become file names, so only canonical ids are accepted: no path can climb out of
// grants/ or name another file.
TEST(Grants, PathsOnlyForCanonicalFileIds) {
    TempDir home;
    for (const std::string_view id : {"", "..", "../../etc/passwd", "a/b", "eRWGyhTojxf_sJpy3QQrG",
                                      "eRWGyhTojxf_sJpy3QQrGQQ", "eRWGyhTojxf.sJpy3QQrGQ"}) {
        EXPECT_FALSE(grant_path(home.path(), id)) << id;
        EXPECT_FALSE(save_grant(home.path(), id, sample_grant())) << id;
        EXPECT_FALSE(load_grant(home.path(), id)) << id;
    }
    auto p = grant_path(home.path(), kFileId);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, home.path() / "grants" / "eRWGyhTojxf_sJpy3QQrGQ.json");
}

// A grant the server answered badly is not stored.
TEST(Grants, SaveRefusesMalformedGrants) {
    TempDir home;
    StoredGrant g = sample_grant();
    g.preimage = "zz";
    EXPECT_FALSE(save_grant(home.path(), kFileId, g));
    g = sample_grant();
    g.expires_s = 0;
    EXPECT_FALSE(save_grant(home.path(), kFileId, g));
    EXPECT_FALSE(
        std::filesystem::exists(home.path() / "grants" / (std::string(kFileId) + ".json")));
}

// The credential is exactly "L402 <macaroon>:<preimage>", and liveness is now < expires.
TEST(Grants, AuthorizationAndLiveness) {
    const StoredGrant g = sample_grant();
    EXPECT_EQ(l402_authorization(g), "L402 AgJCAAAtest+/macaroon==:" + kPreimage);
    EXPECT_TRUE(g.live_at(1'899'999'999));
    EXPECT_FALSE(g.live_at(1'900'000'000));
}

}  // namespace
}  // namespace satload::client
