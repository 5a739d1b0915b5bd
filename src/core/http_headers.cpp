// Header value parsers. Written by hand because they are small, must be strict, and live in
// the pure layer; Beast parses the HTTP framing, not these field grammars.
#include "core/http_headers.h"

#include <algorithm>

namespace satload {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        const auto pos = s.find(sep);
        out.push_back(s.substr(0, pos));
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

bool is_token_char(char c) {
    return c > 0x20 && c < 0x7f && c != ',' && c != ' ';
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;  // 19 digits cannot overflow uint64
}

std::optional<MetadataPairs> parse_upload_metadata(std::string_view text) {
    MetadataPairs pairs;
    if (trim(text).empty()) return pairs;
    for (std::string_view item : split(text, ',')) {
        item = trim(item);
        if (item.empty()) return std::nullopt;
        const auto space = item.find(' ');
        const std::string_view key = item.substr(0, space);
        std::string_view value_b64 =
            space == std::string_view::npos ? std::string_view{} : trim(item.substr(space + 1));
        if (key.empty() || !std::all_of(key.begin(), key.end(), is_token_char)) return std::nullopt;
        if (value_b64.find(' ') != std::string_view::npos) return std::nullopt;
        if (value_b64.size() > (kMaxMetadataValueBytes + 2) / 3 * 4) return std::nullopt;
        const auto value = base64_decode(value_b64);
        if (!value) return std::nullopt;
        for (const auto& [k, v] : pairs) {
            if (k == key) return std::nullopt;
        }
        if (pairs.size() >= kMaxMetadataPairs) return std::nullopt;
        pairs.emplace_back(std::string(key), std::string(as_chars(*value)));
    }
    return pairs;
}

std::optional<UploadChecksum> parse_upload_checksum(std::string_view text) {
    text = trim(text);
    const auto space = text.find(' ');
    if (space == std::string_view::npos || space == 0) return std::nullopt;
    const std::string_view algorithm = text.substr(0, space);
    if (!std::all_of(algorithm.begin(), algorithm.end(), is_token_char)) return std::nullopt;
    auto digest = base64_decode(trim(text.substr(space + 1)));
    if (!digest || digest->empty() || digest->size() > 64) return std::nullopt;
    std::string algo(algorithm);
    std::transform(algo.begin(), algo.end(), algo.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return UploadChecksum{std::move(algo), std::move(*digest)};
}

std::optional<UploadConcat> parse_upload_concat(std::string_view text) {
    text = trim(text);
    if (text == "partial") return UploadConcat{true, {}};
    constexpr std::string_view kFinal = "final;";
    if (text.substr(0, kFinal.size()) != kFinal) return std::nullopt;
    UploadConcat concat;
    for (std::string_view url : split(trim(text.substr(kFinal.size())), ' ')) {
        if (url.empty()) continue;  // tolerate repeated spaces between URLs
        if (concat.parts.size() >= kMaxConcatParts) return std::nullopt;
        if (!std::all_of(url.begin(), url.end(), is_token_char)) return std::nullopt;
        concat.parts.emplace_back(url);
    }
    if (concat.parts.empty()) return std::nullopt;
    return concat;
}

ParsedRange parse_range(std::string_view text, std::uint64_t size) {
    text = trim(text);
    constexpr std::string_view kUnit = "bytes=";
    if (text.size() < kUnit.size()) return {RangeResult::malformed, {}};
    std::string unit(text.substr(0, kUnit.size()));
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    if (unit != kUnit) return {RangeResult::none, {}};  // other units are ignored
    const std::string_view spec = trim(text.substr(kUnit.size()));
    // Several ranges: serving the whole body is allowed (RFC 9110 section 14.2) and avoids
    // multipart responses; it is also what blocks range-amplification attacks.
    if (spec.find(',') != std::string_view::npos) return {RangeResult::none, {}};
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return {RangeResult::malformed, {}};
    const std::string_view first_text = trim(spec.substr(0, dash));
    const std::string_view last_text = trim(spec.substr(dash + 1));
    if (first_text.empty()) {
        // Suffix range: the last N bytes.
        const auto suffix = parse_decimal(last_text);
        if (!suffix) return {RangeResult::malformed, {}};
        if (*suffix == 0 || size == 0) return {RangeResult::unsatisfiable, {}};
        const std::uint64_t n = std::min(*suffix, size);
        return {RangeResult::satisfiable, {size - n, size - 1}};
    }
    const auto first = parse_decimal(first_text);
    if (!first) return {RangeResult::malformed, {}};
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        const auto parsed_last = parse_decimal(last_text);
        if (!parsed_last || *parsed_last < *first) return {RangeResult::malformed, {}};
        last = std::min(*parsed_last, last);
    }
    if (*first >= size) return {RangeResult::unsatisfiable, {}};
    return {RangeResult::satisfiable, {*first, last}};
}

std::optional<std::string> replace_upload_metadata_value(std::string_view text, std::string_view key,
                                                        std::string_view value) {
    auto pairs = parse_upload_metadata(text);
    if (!pairs) return std::nullopt;
    bool replaced = false;
    std::string out;
    for (auto& [k, v] : *pairs) {
        if (k == key) {
            v = std::string(value);
            replaced = true;
        }
        if (!out.empty()) out += ',';
        out += k;
        if (!v.empty()) out += ' ' + base64_encode(as_bytes(v));
    }
    if (!replaced) return std::nullopt;
    return out;
}

}  // namespace satload
