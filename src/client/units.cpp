// Size and duration parsing.
#include "client/units.h"

#include <array>
#include <charconv>
#include <string>
#include <utility>

namespace satload::client {
namespace {

// Splits "123unit" into the number and the unit; nullopt when there is no leading number.
std::optional<std::pair<std::uint64_t, std::string>> split(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc{} || end != text.data() + digits) return std::nullopt;
    std::string unit(text.substr(digits));
    for (char& c : unit) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return std::make_pair(value, unit);
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t factor) {
    std::uint64_t out = 0;
    if (__builtin_mul_overflow(value, factor, &out)) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_size_bytes(std::string_view text) {
    const auto parts = split(text);
    if (!parts) return std::nullopt;
    const auto& [value, unit] = *parts;
    static const std::array<std::pair<std::string_view, std::uint64_t>, 13> kUnits = {{
        {"", 1},           {"b", 1},
        {"k", 1ull << 10}, {"kb", 1ull << 10}, {"kib", 1ull << 10},
        {"m", 1ull << 20}, {"mb", 1ull << 20}, {"mib", 1ull << 20},
        {"g", 1ull << 30}, {"gb", 1ull << 30}, {"gib", 1ull << 30},
        {"t", 1ull << 40}, {"tib", 1ull << 40},
    }};
    for (const auto& [name, factor] : kUnits) {
        if (unit == name) return scaled(value, factor);
    }
    if (unit == "tb") return scaled(value, 1ull << 40);
    return std::nullopt;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    const auto parts = split(text);
    if (!parts) return std::nullopt;
    const auto& [value, unit] = *parts;
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "s") factor = 1;
    else if (unit == "m") factor = 60;
    else if (unit == "h") factor = 3600;
    else if (unit == "d") factor = 86400;
    else return std::nullopt;
    const auto seconds = scaled(value, factor);
    // Keep far from the limits of std::chrono arithmetic (about 292 years in nanoseconds).
    constexpr std::uint64_t kMaxSeconds = 100ull * 365 * 86400;
    if (!seconds || *seconds > kMaxSeconds) return std::nullopt;
    return std::chrono::seconds(static_cast<std::int64_t>(*seconds));
}

}  // namespace satload::client
