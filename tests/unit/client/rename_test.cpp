// Pins down what a rename sends: the names `satload rename` accepts (the same rules as the web
// page's), and the PATCH body carrying only the new encrypted metadata, which decrypts with the
// file's metadata key to the new name with the old size and type.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "client/link_controls.h"
#include "client/metadata.h"
#include "crypto/keys.h"

namespace satload::client {
namespace {

// Empty, too long, invalid UTF-8 and control characters are refused with a sentence; any
// other UTF-8 of up to 255 bytes, spaces and slashes included, is a name.
TEST(Rename, NewNameRules) {
    EXPECT_EQ(new_name_problem("report 2026.pdf"), std::nullopt);
    EXPECT_EQ(new_name_problem("holiday \xF0\x9F\x8C\xB4.mp4"), std::nullopt);
    EXPECT_EQ(new_name_problem("a/b"), std::nullopt);  // reduced to a safe name only on download
    EXPECT_EQ(new_name_problem(std::string(kMaxNameBytes, 'x')), std::nullopt);
    const auto too_long = new_name_problem(std::string(kMaxNameBytes + 1, 'x'));
    ASSERT_TRUE(too_long);
    EXPECT_NE(too_long->find("255"), std::string::npos) << *too_long;
    EXPECT_TRUE(new_name_problem(""));
    EXPECT_TRUE(new_name_problem("bad\xC3"));      // truncated sequence
    EXPECT_TRUE(new_name_problem("bad\xFFname"));  // never UTF-8
    EXPECT_TRUE(new_name_problem("two\nlines"));
    EXPECT_TRUE(new_name_problem("del\x7f"));
    EXPECT_TRUE(new_name_problem(std::string("nul\0x", 5)));
}

// The body names "meta" and nothing else, so the price, expiry, limit and revocation stay.
TEST(Rename, PatchBodyCarriesOnlyTheMetadata) {
    crypto::FileSecret secret{};
    secret.fill(9);
    const crypto::FileKeys keys = crypto::derive_file_keys(secret);
    const FileMetadata renamed{"new name.txt", 12345, "text/plain"};
    FileChange change;
    change.meta = encrypt_metadata(renamed, keys.metadata_ikm);
    const boost::json::value body = boost::json::parse(change_json(change));
    ASSERT_TRUE(body.is_object());
    EXPECT_EQ(body.as_object().size(), 1u);
    const auto back = decrypt_metadata(std::string(body.at("meta").as_string()), keys.metadata_ikm);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->name, "new name.txt");
    EXPECT_EQ(back->size_bytes, 12345u);
    EXPECT_EQ(back->type, "text/plain");
    EXPECT_EQ(change_json(FileChange{}), "{}");
}

}  // namespace
}  // namespace satload::client
