// Pins down the strict reading of S3's XML answers: exact element names, entity decoding,
// refusal of markup or unknown entities inside text, and the root check.
#include "s3/s3_xml.h"

#include <gtest/gtest.h>

namespace satload::s3 {
namespace {

constexpr std::string_view kListParts =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Bucket>b</Bucket><Key>partials/x/data</Key><UploadId>2~abc</UploadId>"
    "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>"
    "<IsTruncated>false</IsTruncated>"
    "<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag><Size>5242880</Size></Part>"
    "<Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag><Size>17</Size></Part>"
    "</ListPartsResult>";

// Elements are found by exact name, in order, and their text is decoded.
TEST(S3Xml, ElementsByExactName) {
    EXPECT_TRUE(xml_root_is(kListParts, "ListPartsResult"));
    EXPECT_FALSE(xml_root_is(kListParts, "ListParts"));
    EXPECT_FALSE(xml_root_is(kListParts, "Error"));
    const auto parts = xml_elements(kListParts, "Part");
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(xml_text(parts[0], "ETag"), "\"aa\"");
    EXPECT_EQ(xml_text(parts[1], "Size"), "17");
    // <PartNumberMarker> and <NextPartNumberMarker> are not <PartNumber>.
    EXPECT_EQ(xml_text(kListParts, "PartNumber"), "1");
    EXPECT_EQ(xml_text(kListParts, "NextPartNumberMarker"), "2");
    EXPECT_EQ(xml_text(kListParts, "Missing"), std::nullopt);
    EXPECT_EQ(xml_text("<a><B/></a>", "B"), "");
}

// The five entities and character references decode; anything else makes the text unusable.
TEST(S3Xml, StrictText) {
    EXPECT_EQ(xml_unescape("a&amp;b&lt;c&gt;d&quot;e&apos;f"), "a&b<c>d\"e'f");
    EXPECT_EQ(xml_unescape("&#65;&#x42;&#x1234;"), "AB\xe1\x88\xb4");
    EXPECT_EQ(xml_unescape("&nbsp;"), std::nullopt);
    EXPECT_EQ(xml_unescape("a & b"), std::nullopt);
    EXPECT_EQ(xml_unescape("&#0;"), std::nullopt);
    EXPECT_EQ(xml_unescape("&#xD800;"), std::nullopt);
    EXPECT_EQ(xml_unescape("&#x110000;"), std::nullopt);
    EXPECT_EQ(xml_text("<K>a<b>c</b></K>", "K"), std::nullopt);  // markup inside text
    EXPECT_EQ(xml_escape("<a&b>"), "&lt;a&amp;b&gt;");
    EXPECT_EQ(xml_unescape(xml_escape("x<&>y")), "x<&>y");
}

// An element opened but never closed is not returned (a truncated answer reads short).
TEST(S3Xml, UnclosedElement) {
    EXPECT_TRUE(xml_elements("<L><Upload><Key>k</Key>", "Upload").empty());
    EXPECT_FALSE(xml_root_is("", "L"));
    EXPECT_FALSE(xml_root_is("<?xml version=\"1.0\"", "L"));
    EXPECT_TRUE(xml_root_is("  <Error>", "Error"));
}

}  // namespace
}  // namespace satload::s3
