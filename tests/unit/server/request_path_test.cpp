// The pure request parsing the router and the API handlers share: plain path segments, the
// upload id of an Upload-Concat part URL, and JSON object bodies with their size limit.
#include <gtest/gtest.h>

#include <string>

#include "server/json_body.h"
#include "server/request_path.h"

namespace satload::server {
namespace {

using Segments = std::vector<std::string_view>;

// Only plain paths split; dot segments, escapes and empty segments route nowhere.
TEST(RequestPath, PlainSegments) {
    EXPECT_EQ(plain_segments("/"), Segments{});
    EXPECT_EQ(plain_segments("/api/v1/files"), (Segments{"api", "v1", "files"}));
    for (const std::string_view bad : {"", "api", "//", "/a//b", "/a/", "/a/../b", "/./a", "/a/%2F", "/.."}) {
        EXPECT_FALSE(plain_segments(bad)) << bad;
    }
}

// The id after the last /files/ must be exactly a canonical upload id.
TEST(RequestPath, UploadIdOfPartUrl) {
    const std::string id = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    EXPECT_EQ(upload_id_of_url("https://h/files/" + id), id);
    EXPECT_EQ(upload_id_of_url("/files/x/files/" + id), id);
    EXPECT_FALSE(upload_id_of_url("/files/" + id + "/"));
    EXPECT_FALSE(upload_id_of_url("/files/" + id.substr(1)));
    EXPECT_FALSE(upload_id_of_url("/uploads/" + id));
}

// A body is one JSON object within the limit: 413 just past it, 400 for anything else.
TEST(RequestPath, JsonObjectBody) {
    const std::string body = R"({"a":"x","n":-3,"big":18446744073709551615,"f":[1e308]})";
    const JsonBody ok = parse_json_object(body, body.size());
    ASSERT_TRUE(ok.object.has_value());
    EXPECT_EQ(json_string(*ok.object, "a"), std::optional<std::string>("x"));
    EXPECT_EQ(json_int64(*ok.object, "n"), std::optional<std::int64_t>(-3));
    EXPECT_FALSE(json_int64(*ok.object, "big"));
    EXPECT_FALSE(json_string(*ok.object, "n"));
    const JsonBody big = parse_json_object(body, body.size() - 1);
    EXPECT_FALSE(big.object);
    EXPECT_EQ(big.problem, Problem::payload_too_large);
    // Found by fuzz/server_json_body_fuzz.cpp: a number past double's range was read as
    // infinity, an object that serializes to invalid JSON ("Infinity").
    for (const std::string_view bad : {"", "[]", "\"s\"", "{", "{} {}", "{\"a\":1,}", "{\"m\":9007199e254740993}",
                                       "{\"a\":[{\"b\":-1e400}]}"}) {
        const JsonBody r = parse_json_object(bad, 1024);
        EXPECT_FALSE(r.object) << bad;
        EXPECT_EQ(r.problem, Problem::bad_request) << bad;
    }
}

}  // namespace
}  // namespace satload::server
