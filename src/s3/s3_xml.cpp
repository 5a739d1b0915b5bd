// Minimal, strict reading of S3's XML answers (see s3_xml.h for what is accepted).
#include "s3/s3_xml.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <utility>

namespace satload::s3 {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n";
// The five entities XML predefines.
constexpr std::pair<std::string_view, char> kNamedEntities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
// The largest Unicode scalar value a character reference may name.
constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace

bool xml_root_is(std::string_view doc, std::string_view root) {
    std::size_t at = doc.find_first_not_of(kWhitespace);
    if (at == std::string_view::npos) return false;
    if (doc.substr(at, 5) == "<?xml") {
        const std::size_t end = doc.find("?>", at);
        if (end == std::string_view::npos) return false;
        at = doc.find_first_not_of(kWhitespace, end + 2);
        if (at == std::string_view::npos) return false;
    }
    if (doc.substr(at, 1) != "<" || doc.substr(at + 1, root.size()) != root) return false;
    const std::size_t after = at + 1 + root.size();
    if (after >= doc.size()) return false;
    const char next = doc[after];
    return next == '>' || next == ' ' || next == '/';
}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view name) {
    const std::string open = "<" + std::string(name) + ">";
    const std::string empty = "<" + std::string(name) + "/>";
    const std::string close = "</" + std::string(name) + ">";
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < xml.size()) {
        const std::size_t o = xml.find(open, at);
        const std::size_t e = xml.find(empty, at);
        if (e != std::string_view::npos && (o == std::string_view::npos || e < o)) {
            out.emplace_back();
            at = e + empty.size();
            continue;
        }
        if (o == std::string_view::npos) break;
        const std::size_t start = o + open.size();
        const std::size_t c = xml.find(close, start);
        if (c == std::string_view::npos) break;
        out.push_back(xml.substr(start, c - start));
        at = c + close.size();
    }
    return out;
}

std::optional<std::string_view> xml_element(std::string_view xml, std::string_view name) {
    auto all = xml_elements(xml, name);
    if (all.empty()) return std::nullopt;
    return all.front();
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view name) {
    auto element = xml_element(xml, name);
    if (!element) return std::nullopt;
    return xml_unescape(*element);
}

std::optional<std::string> xml_unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t at = 0;
    while (at < text.size()) {
        const char c = text[at];
        if (c == '<' || c == '>') return std::nullopt;  // markup where text was expected
        if (c != '&') {
            out.push_back(c);
            ++at;
            continue;
        }
        const std::size_t semi = text.find(';', at);
        if (semi == std::string_view::npos) return std::nullopt;
        const std::string_view entity = text.substr(at + 1, semi - at - 1);
        const auto named = std::find_if(std::begin(kNamedEntities), std::end(kNamedEntities),
                                        [&](const auto& e) { return e.first == entity; });
        if (named != std::end(kNamedEntities)) {
            out.push_back(named->second);
        } else if (entity.size() > 1 && entity[0] == '#') {
            const bool hex = entity[1] == 'x';
            const std::string_view digits = entity.substr(hex ? 2 : 1);
            std::uint32_t cp = 0;
            auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
            if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
                cp == 0 || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return std::nullopt;
            }
            append_utf8(out, cp);
        } else {
            return std::nullopt;
        }
        at = semi + 1;
    }
    return out;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

}  // namespace satload::s3
