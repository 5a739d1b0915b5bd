// Pins down the metadata that travels encrypted (JSON shape, limits, encryption with the
// metadata key) and the reduction of a decrypted, possibly hostile, name to a safe file name.
#include "client/metadata.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"

namespace satload::client {
namespace {

crypto::FileKeys keys_for(std::uint8_t fill) {
    crypto::FileSecret secret;
    secret.fill(fill);
    return crypto::derive_file_keys(secret);
}

// Names from a hostile uploader are reduced to a plain base name in the current directory.
TEST(SafeName, ReducesHostileNames) {
    const std::pair<std::string, std::string> cases[] = {
        {"report.pdf", "report.pdf"},
        {"../../etc/passwd", "passwd"},
        {"/etc/shadow", "shadow"},
        {"a\\..\\..\\win.ini", "win.ini"},
        {"..", "fallback"},
        {".", "fallback"},
        {"", "fallback"},
        {"dir/", "fallback"},
        {".bashrc", "bashrc"},
        {"...hidden", "hidden"},
        {"-rf", "rf"},
        {"--help.txt", "help.txt"},
        {"a\nb\rc\td", "a_b_c_d"},
        {"bell\x07.txt", "bell_.txt"},
        {"esc\x1b[31m.txt", "esc_[31m.txt"},
        {"del\x7f", "del_"},
        {"c1\xc2\x9b.txt", "c1_.txt"},                 // U+009B CSI
        {"photo\xe2\x80\xaegpj.exe", "photo_gpj.exe"},  // U+202E RIGHT-TO-LEFT OVERRIDE
        {"bad\xff\xfe.bin", "bad\xEF\xBF\xBD\xEF\xBF\xBD.bin"},
        {"ü-ß 日本.txt", "ü-ß 日本.txt"},
        {"trailing. . ", "trailing"},
    };
    for (const auto& [in, want] : cases) {
        EXPECT_EQ(safe_file_name(in, "fallback"), want) << in;
    }
}

// Long names are cut on a UTF-8 boundary and keep a short extension.
TEST(SafeName, CutsLongNamesKeepingTheExtension) {
    const std::string name = std::string(300, 'a') + ".pdf";
    const std::string safe = safe_file_name(name, "x");
    EXPECT_EQ(safe.size(), kMaxSafeNameBytes);
    EXPECT_EQ(safe.substr(safe.size() - 4), ".pdf");
    std::string wide;
    for (int i = 0; i < 150; ++i) wide += "日";  // 3 bytes each
    const std::string cut = safe_file_name(wide, "x");
    EXPECT_LE(cut.size(), kMaxSafeNameBytes);
    EXPECT_EQ(cut.size() % 3, 0u);  // no split character
    EXPECT_EQ(to_valid_utf8(cut), cut);
}

// Invalid UTF-8 (stray continuation, overlong, surrogate, beyond U+10FFFF, truncated) is
// replaced; valid text is untouched.
TEST(Utf8, ReplacesInvalidSequences) {
    EXPECT_EQ(to_valid_utf8("plain"), "plain");
    EXPECT_EQ(to_valid_utf8("\xe2\x82\xac"), "\xe2\x82\xac");
    EXPECT_EQ(to_valid_utf8("\x80"), "\xEF\xBF\xBD");
    EXPECT_EQ(to_valid_utf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(to_valid_utf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(to_valid_utf8("\xf4\x90\x80\x80").size(), 12u);
    EXPECT_EQ(to_valid_utf8("a\xe2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
}

// The JSON has exactly name, size and type, and parses back; a name that is not UTF-8
// still produces valid JSON.
TEST(Metadata, JsonRoundTrip) {
    const FileMetadata meta{"notes \"v2\".txt", 123456789012ull, "text/plain"};
    const std::string json = metadata_to_json(meta);
    EXPECT_NE(json.find("\"size\":123456789012"), std::string::npos);
    auto back = metadata_from_json(json);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->name, meta.name);
    EXPECT_EQ(back->size_bytes, meta.size_bytes);
    EXPECT_EQ(back->type, meta.type);
    auto odd = metadata_from_json(metadata_to_json({"x\xff", 1, "a/b"}));
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->name, "x\xEF\xBF\xBD");
}

// Malformed metadata is refused: wrong types, negative size, missing keys, oversize fields.
TEST(Metadata, RefusesMalformedJson) {
    for (const std::string& bad : std::vector<std::string>{"", "[]", "{}", R"({"name":"a","size":-1,"type":"t"})", R"({"name":1,"size":1,"type":"t"})",
          R"({"name":"a","size":"1","type":"t"})", R"({"name":"a","size":1})",
          R"({"name":"a","size":1.5,"type":"t"})",
          R"({"name":")" + std::string(300, 'a') + R"(","size":1,"type":"t"})",
          std::string(kMaxMetadataJsonBytes + 1, ' ')}) {
        EXPECT_FALSE(metadata_from_json(bad)) << bad.substr(0, 60);
    }
}

// Encrypted metadata decrypts with the same secret's metadata key only; a wrong key or a
// flipped byte is an authentication failure, garbage is a protocol error.
TEST(Metadata, EncryptsWithTheMetadataKey) {
    const auto keys = keys_for(7);
    const FileMetadata meta{"a.bin", 42, "application/octet-stream"};
    const std::string text = encrypt_metadata(meta, keys.metadata_ikm);
    EXPECT_EQ(text.find("a.bin"), std::string::npos);
    auto back = decrypt_metadata(text, keys.metadata_ikm);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->name, "a.bin");
    EXPECT_EQ(back->size_bytes, 42u);
    // Two encryptions differ (fresh salt), so equal names are not linkable.
    EXPECT_NE(encrypt_metadata(meta, keys.metadata_ikm), text);

    auto wrong = decrypt_metadata(text, keys_for(8).metadata_ikm);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::authentication_failed);
    auto content_key = decrypt_metadata(text, keys.content_ikm);
    ASSERT_FALSE(content_key);
    EXPECT_EQ(content_key.error().code, ErrorCode::authentication_failed);

    auto bytes = base64url_decode(text);
    ASSERT_TRUE(bytes);
    (*bytes)[bytes->size() - 5] ^= 1;
    auto flipped = decrypt_metadata(base64url_encode(*bytes), keys.metadata_ikm);
    ASSERT_FALSE(flipped);
    EXPECT_EQ(flipped.error().code, ErrorCode::authentication_failed);

    EXPECT_EQ(decrypt_metadata("not base64!", keys.metadata_ikm).error().code, ErrorCode::protocol);
    EXPECT_EQ(decrypt_metadata(std::string(kMaxMetadataTextChars + 1, 'A'), keys.metadata_ikm)
                  .error()
                  .code,
              ErrorCode::protocol);
}

TEST(Metadata, GuessesMediaTypesByExtension) {
    EXPECT_EQ(guess_media_type("a.PDF"), "application/pdf");
    EXPECT_EQ(guess_media_type("x.tar.gz"), "application/gzip");
    EXPECT_EQ(guess_media_type("README"), "application/octet-stream");
    EXPECT_EQ(guess_media_type(".bashrc"), "application/octet-stream");
    EXPECT_EQ(guess_media_type("clip.webm"), "video/webm");
}

}  // namespace
}  // namespace satload::client
