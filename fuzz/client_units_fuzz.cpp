// Fuzzes the command line's sizes and durations (client/units.h: "8MiB", "7d") against a model
// written from the header's grammar: digits, then one known unit in any case, powers of 1024,
// no overflow, durations at most 100 years. No crash; the parser and the model agree on every
// input; an accepted value reads back the same written as plain digits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "client/units.h"
#include "fuzz_text.h"

namespace client = satload::client;

namespace {

constexpr std::uint64_t kMaxDurationS = 100ULL * 365 * 86400;

// The leading digits as a number (nullopt: none, or more than uint64 holds) and the unit.
std::optional<std::pair<std::uint64_t, std::string>> model_split(std::string_view text) {
    std::size_t i = 0;
    std::uint64_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, static_cast<std::uint64_t>(text[i] - '0'), &v)) {
            return std::nullopt;
        }
        ++i;
    }
    if (i == 0) return std::nullopt;
    return std::make_pair(v, satload::fuzz::lower(text.substr(i)));
}

std::optional<std::uint64_t> times(std::uint64_t v, std::uint64_t factor) {
    std::uint64_t out = 0;
    if (__builtin_mul_overflow(v, factor, &out)) return std::nullopt;
    return out;
}

std::optional<std::uint64_t> model_size(std::string_view text) {
    const auto parts = model_split(text);
    if (!parts) return std::nullopt;
    const std::string& u = parts->second;
    int shift = -1;
    if (u.empty() || u == "b") shift = 0;
    for (const auto& [prefix, s] : {std::pair<std::string_view, int>{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}}) {
        if (u == prefix || u == std::string(prefix) + "b" || u == std::string(prefix) + "ib") shift = s;
    }
    if (shift < 0) return std::nullopt;
    return times(parts->first, 1ULL << shift);
}

std::optional<std::uint64_t> model_duration_s(std::string_view text) {
    const auto parts = model_split(text);
    if (!parts) return std::nullopt;
    const std::string& u = parts->second;
    const std::uint64_t factor = u.empty() || u == "s" ? 1 : u == "m" ? 60 : u == "h" ? 3600 : u == "d" ? 86400 : 0;
    if (factor == 0) return std::nullopt;
    const auto s = times(parts->first, factor);
    if (!s || *s > kMaxDurationS) return std::nullopt;
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto bytes = client::parse_size_bytes(text);
    if (bytes != model_size(text)) std::abort();
    if (bytes && client::parse_size_bytes(std::to_string(*bytes)) != bytes) std::abort();

    const auto duration = client::parse_duration(text);
    const auto model = model_duration_s(text);
    if (duration.has_value() != model.has_value()) std::abort();
    if (duration) {
        if (duration->count() < 0 || static_cast<std::uint64_t>(duration->count()) != *model) std::abort();
        const auto again = client::parse_duration(std::to_string(duration->count()) + "s");
        if (!again || *again != *duration) std::abort();
    }
    return 0;
}
