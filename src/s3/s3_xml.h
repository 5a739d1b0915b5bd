// The few XML answers of S3 that the client reads (error documents, multipart upload ids,
// listings), parsed by hand: minimal and strict. Only elements without attributes are looked
// up, text must contain no markup, and only the five predefined entities and numeric character
// references are decoded; anything else is refused, so a surprise reads as a protocol error
// rather than as a wrong value. A general XML library (none is a dependency yet) would accept
// far more than these answers ever contain.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace satload::s3 {

// Whether `doc` is a document whose root element is `root` (after an optional XML declaration
// and whitespace; the root may carry attributes such as xmlns).
[[nodiscard]] bool xml_root_is(std::string_view doc, std::string_view root);

// The content between <name> and </name> of each direct or nested occurrence in `xml`, in
// order. Elements are matched by exact name (<Key> never matches <KeyMarker>); an opening tag
// without its closing tag ends the search (the caller sees fewer elements than expected).
[[nodiscard]] std::vector<std::string_view> xml_elements(std::string_view xml,
                                                         std::string_view name);

// The content of the first <name> element, or nullopt.
[[nodiscard]] std::optional<std::string_view> xml_element(std::string_view xml,
                                                          std::string_view name);

// The decoded text of the first <name> element; nullopt when missing, when it contains markup
// or an entity this parser does not know. <name/> is the empty text.
[[nodiscard]] std::optional<std::string> xml_text(std::string_view xml, std::string_view name);

// Decodes the text content of an element (entities and character references).
[[nodiscard]] std::optional<std::string> xml_unescape(std::string_view text);

// Escapes text for an element's content (&, <, >).
[[nodiscard]] std::string xml_escape(std::string_view text);

}  // namespace satload::s3
