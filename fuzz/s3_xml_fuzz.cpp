// Fuzzes the hand-written reader of S3's XML answers (s3/s3_xml.h), which an object store we
// do not control feeds (the s3:// URL of the configuration has s3_url_fuzz). No crash; an
// element found is a slice of the document with no closing tag of its own name inside; decoded
// text escapes and decodes back to itself; any text (drawn from the input) escaped into an
// element reads back exactly, inside a document whose root is recognised; decoding refuses
// markup.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "s3/s3_xml.h"

namespace s3 = satload::s3;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_document(std::string_view doc) {
    for (const std::string_view name : {"Key", "UploadId", "Code", "Message", "ETag"}) {
        const std::string close = "</" + std::string(name) + ">";
        for (const std::string_view element : s3::xml_elements(doc, name)) {
            if (!element.empty() && !inside(element, doc)) std::abort();
            if (element.find(close) != std::string_view::npos) std::abort();
        }
        if (const auto text = s3::xml_text(doc, name)) {
            const auto again = s3::xml_unescape(s3::xml_escape(*text));
            if (!again || *again != *text) std::abort();
        }
    }
    (void)s3::xml_root_is(doc, "Error");
    (void)s3::xml_root_is(doc, "ListPartsResult");
}

void check_text(std::string_view text) {
    if (const auto decoded = s3::xml_unescape(text)) {
        if (text.find_first_of("<>") != std::string_view::npos) std::abort();
        if (decoded->size() > text.size()) std::abort();  // a reference is longer than its character
    }
    const std::string escaped = s3::xml_escape(text);
    const auto back = s3::xml_unescape(escaped);
    if (!back || *back != text) std::abort();
    const std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error xmlns=\"x\"><Code>" + escaped +
                            "</Code><Key/><Message>m</Message></Error>";
    if (!s3::xml_root_is(doc, "Error") || s3::xml_root_is(doc, "Err")) std::abort();
    const auto code = s3::xml_text(doc, "Code");
    if (!code || *code != text) std::abort();
    const auto key = s3::xml_text(doc, "Key");
    if (!key || !key->empty()) std::abort();
    if (s3::xml_text(doc, "Message") != std::optional<std::string>("m")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_document(text);
    check_text(text);
    return 0;
}
