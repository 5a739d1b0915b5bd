// Metadata JSON, its encryption, media types by extension, and safe download names.
#include "client/metadata.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include "crypto/primitives.h"

namespace satload::client {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kDefaultType = "application/octet-stream";

// Length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), 0 when it is not valid. Sets `code_point`.
std::size_t utf8_sequence(std::string_view s, std::uint32_t& code_point) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    const std::uint8_t lead = b(0);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    } else if ((lead & 0xE0) == 0xC0) {
        n = 2, min = 0x80, code_point = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
        n = 3, min = 0x800, code_point = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, code_point = lead & 0x07u;
    } else {
        return 0;
    }
    if (s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xC0) != 0x80) return 0;
        code_point = (code_point << 6) | (b(i) & 0x3Fu);
    }
    if (code_point < min || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
        return 0;
    }
    return n;
}

// Code points that must not reach a file name: C0 and C1 controls, DEL, and the bidi
// controls that make "gpj.exe" display as "exe.jpg".
bool is_unsafe_code_point(std::uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x200E && cp <= 0x200F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence (s is valid UTF-8).
std::string_view cut_utf8(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t end = max;
    while (end > 0 && (static_cast<std::uint8_t>(s[end]) & 0xC0) == 0x80) --end;
    return s.substr(0, end);
}

}  // namespace

std::string guess_media_type(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 32> kTypes = {{
        {"txt", "text/plain"},         {"md", "text/markdown"},
        {"csv", "text/csv"},           {"html", "text/html"},
        {"htm", "text/html"},          {"css", "text/css"},
        {"js", "text/javascript"},     {"json", "application/json"},
        {"xml", "application/xml"},    {"pdf", "application/pdf"},
        {"zip", "application/zip"},    {"gz", "application/gzip"},
        {"tar", "application/x-tar"},  {"xz", "application/x-xz"},
        {"zst", "application/zstd"},   {"7z", "application/x-7z-compressed"},
        {"png", "image/png"},          {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},        {"gif", "image/gif"},
        {"webp", "image/webp"},        {"svg", "image/svg+xml"},
        {"avif", "image/avif"},        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},          {"flac", "audio/flac"},
        {"wav", "audio/wav"},          {"mp4", "video/mp4"},
        {"webm", "video/webm"},        {"mkv", "video/x-matroska"},
        {"iso", "application/x-iso9660-image"}, {"epub", "application/epub+zip"},
    }};
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return std::string(kDefaultType);
    const std::string ext = lower_ascii(name.substr(dot + 1));
    for (const auto& [e, type] : kTypes) {
        if (ext == e) return std::string(type);
    }
    return std::string(kDefaultType);
}

std::string to_valid_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    while (!bytes.empty()) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence(bytes, cp);
        if (n == 0) {
            out += kReplacement;
            bytes.remove_prefix(1);
        } else {
            out += bytes.substr(0, n);
            bytes.remove_prefix(n);
        }
    }
    return out;
}

std::optional<std::string> new_name_problem(std::string_view name) {
    if (name.empty()) return std::string("a file name cannot be empty");
    if (name.size() > kMaxNameBytes) {
        return "a file name is at most " + std::to_string(kMaxNameBytes) + " bytes of UTF-8";
    }
    if (to_valid_utf8(name) != name) return std::string("a file name must be valid UTF-8");
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) return std::string("a file name cannot hold control characters");
    }
    return std::nullopt;
}

std::string metadata_to_json(const FileMetadata& meta) {
    boost::json::object obj;
    const std::string name = to_valid_utf8(meta.name);
    obj["name"] = cut_utf8(name, kMaxNameBytes);
    obj["size"] = meta.size_bytes;
    obj["type"] = meta.type;
    return boost::json::serialize(obj);
}

ClientResult<FileMetadata> metadata_from_json(std::string_view json) {
    if (json.size() > kMaxMetadataJsonBytes) {
        return client_error(ErrorCode::protocol, "the file's metadata is too large");
    }
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(json, ec);
    const auto malformed = [] {
        return client_error(ErrorCode::protocol, "the file's metadata is malformed");
    };
    if (ec || !value.is_object()) return malformed();
    const auto& obj = value.get_object();
    const auto* name = obj.if_contains("name");
    const auto* size = obj.if_contains("size");
    const auto* type = obj.if_contains("type");
    if (!name || !name->is_string() || !size || !type || !type->is_string()) return malformed();
    FileMetadata meta;
    if (size->is_uint64()) {
        meta.size_bytes = size->get_uint64();
    } else if (size->is_int64() && size->get_int64() >= 0) {
        meta.size_bytes = static_cast<std::uint64_t>(size->get_int64());
    } else {
        return malformed();
    }
    meta.name = std::string(name->get_string());
    meta.type = std::string(type->get_string());
    if (meta.name.size() > kMaxNameBytes || meta.type.size() > kMaxTypeBytes) return malformed();
    return meta;
}

std::string encrypt_metadata(const FileMetadata& meta, const crypto::ece::Key& metadata_ikm) {
    const std::string json = metadata_to_json(meta);
    crypto::ece::Header header;
    crypto::random_bytes(header.salt);
    header.record_size = kMetadataRecordSize;
    const Bytes body = crypto::ece::encrypt(metadata_ikm, as_bytes(json), header);
    return base64url_encode(body);
}

ClientResult<FileMetadata> decrypt_metadata(std::string_view text,
                                            const crypto::ece::Key& metadata_ikm) {
    if (text.size() > kMaxMetadataTextChars) {
        return client_error(ErrorCode::protocol, "the file's encrypted metadata is too large");
    }
    const auto body = base64url_decode(text);
    if (!body) {
        return client_error(ErrorCode::protocol, "the file's encrypted metadata is not base64url");
    }
    const auto plain = crypto::ece::decrypt(metadata_ikm, *body);
    if (!plain) {
        if (plain.error().code == crypto::ece::Error::authentication_failed) {
            return client_error(ErrorCode::authentication_failed,
                                "the file's metadata did not decrypt: wrong secret in the link, "
                                "or the data was tampered with");
        }
        return client_error(ErrorCode::protocol,
                            "the file's encrypted metadata is malformed: " + plain.error().message());
    }
    return metadata_from_json(as_chars(*plain));
}

std::string safe_file_name(std::string_view name, std::string_view fallback) {
    const std::size_t slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    const std::string valid = to_valid_utf8(name);
    std::string out;
    std::string_view rest = valid;
    while (!rest.empty()) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence(rest, cp);  // never 0: `valid` is valid UTF-8
        if (is_unsafe_code_point(cp)) {
            out += '_';
        } else {
            out += rest.substr(0, n);
        }
        rest.remove_prefix(n);
    }
    // No hidden files, no names that read as options, no edge whitespace.
    const std::size_t first = out.find_first_not_of(".- \t");
    out.erase(0, first == std::string::npos ? out.size() : first);
    while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
    if (out.empty()) return std::string(fallback);
    if (out.size() > kMaxSafeNameBytes) {
        // Keep a short extension, so "long....pdf" stays a .pdf.
        constexpr std::size_t kMaxKeptExtensionBytes = 16;
        const std::size_t dot = out.rfind('.');
        std::string ext;
        if (dot != std::string::npos && out.size() - dot <= kMaxKeptExtensionBytes) {
            ext = out.substr(dot);
        }
        out = std::string(cut_utf8(out, kMaxSafeNameBytes - ext.size())) + ext;
    }
    return out;
}

}  // namespace satload::client
