// Pins down backends.json, the data directory's record of its server's --db and --blobs: the
// text the writer formats, what the reader accepts and refuses, and the file between the two.
#include "server/backends.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "store/store_test_util.h"

namespace satload::server {
namespace {

using store::testing::TempDir;

constexpr std::string_view kDbUrl = "postgresql://satload@127.0.0.1:5432/satload?schema=tenant_1";
constexpr std::string_view kBlobsUrl =
    "s3://satload?endpoint=http://127.0.0.1:7480&region=eu-west-3";

ServerOptions with_urls(std::string_view db, std::string_view blobs) {
    ServerOptions options;
    options.db_url = std::string(db);
    options.blobs_url = std::string(blobs);
    return options;
}

// The reader takes both members (others are ignored) and nothing else from the file.
TEST(BackendsText, ParsesBothUrls) {
    auto parsed =
        parse_backends_text(R"({"note": 1, "blobs": "s3://b?endpoint=http://h:1", "db": ""})");
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->db_url, "");
    EXPECT_EQ(parsed->blobs_url, "s3://b?endpoint=http://h:1");
    EXPECT_EQ(parsed->data_dir, ServerOptions{}.data_dir);
}

// Anything but an object with two string members is refused, and so is a file one byte over
// the limit, even when it is otherwise the same file.
TEST(BackendsText, RefusesWhatIsNotABackendsFile) {
    for (const char* text :
         {"", "[]", "{", R"({"db": ""})", R"({"db": "", "blobs": 1})",
          R"({"db": null, "blobs": ""})", R"("db")", "{\"db\": \"\", \"blobs\": \"\xff\"}"}) {
        auto parsed = parse_backends_text(text);
        ASSERT_FALSE(parsed) << text;
        EXPECT_EQ(parsed.error(), R"(not a backends file (want {"db", "blobs"}))");
    }
    std::string text = R"({"db": "", "blobs": ""})";
    text.resize(kBackendsFileBytesMax, ' ');
    EXPECT_TRUE(parse_backends_text(text));
    text.push_back(' ');
    EXPECT_FALSE(parse_backends_text(text));
}

// What the writer formats reads back to the same two URLs, quotes and backslashes included.
TEST(BackendsText, FormatReadsBack) {
    for (const auto& [db, blobs] :
         {std::pair<std::string_view, std::string_view>{kDbUrl, kBlobsUrl},
          {"", ""},
          {R"(postgresql://h/d?application_name="a\b")", " ~"}}) {
        auto text = format_backends_text(with_urls(db, blobs));
        ASSERT_TRUE(text) << text.error();
        EXPECT_EQ(text->back(), '\n');
        auto back = parse_backends_text(*text);
        ASSERT_TRUE(back) << *text;
        EXPECT_EQ(back->db_url, db);
        EXPECT_EQ(back->blobs_url, blobs);
    }
}

// The writer refuses to record what the reader would refuse: a byte no URL has (the reader
// takes only UTF-8, and a control byte is no URL's), or URLs too long for the file's limit.
TEST(BackendsText, FormatRefusesWhatWouldNotReadBack) {
    EXPECT_FALSE(format_backends_text(with_urls("postgresql://h/d\xff", "")));
    EXPECT_FALSE(format_backends_text(with_urls("", "s3://b\n")));
    // With {"db":"","blobs":""} and its newline (21 bytes) the text is exactly at the limit.
    const std::string fits(kBackendsFileBytesMax - 21, 'a');
    EXPECT_TRUE(format_backends_text(with_urls(fits, "")));
    auto refused = format_backends_text(with_urls(fits + "a", ""));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("too long"), std::string::npos) << refused.error();
    EXPECT_FALSE(format_backends_text(with_urls(std::string(kBackendsFileBytesMax / 2, '"'), "")));
}

// The file: absent means embedded; written, it reads back; a refused write leaves none; a
// damaged one is named in the error.
TEST(BackendsFile, WriteThenRead) {
    const TempDir dir;
    ServerOptions options = with_urls(kDbUrl, kBlobsUrl);
    options.data_dir = dir.path().string();

    auto none = read_backends_file(dir.path());
    ASSERT_TRUE(none) << none.error();
    EXPECT_EQ(none->data_dir, dir.path().string());
    EXPECT_TRUE(none->db_url.empty());
    EXPECT_TRUE(none->blobs_url.empty());

    ServerOptions too_long = options;
    too_long.db_url.append(kBackendsFileBytesMax, 'a');
    EXPECT_FALSE(write_backends_file(too_long));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / kBackendsFileName));

    ASSERT_TRUE(write_backends_file(options));
    auto read = read_backends_file(dir.path());
    ASSERT_TRUE(read) << read.error();
    EXPECT_EQ(read->data_dir, dir.path().string());
    EXPECT_EQ(read->db_url, kDbUrl);
    EXPECT_EQ(read->blobs_url, kBlobsUrl);

    std::ofstream(dir.path() / kBackendsFileName, std::ios::trunc)
        << R"({"db": "postgresql://h/d"})";
    auto damaged = read_backends_file(dir.path());
    ASSERT_FALSE(damaged);
    EXPECT_EQ(damaged.error(), (dir.path() / kBackendsFileName).string() +
                                   R"( is not a backends file (want {"db", "blobs"}))");
}

}  // namespace
}  // namespace satload::server
