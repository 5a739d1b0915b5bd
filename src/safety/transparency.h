// The transparency report's inputs: the `--since DATE` forms the CLI and the admin API accept.
// Pure (no store): the counting itself is SafetyStore::transparency.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace satload::safety {

// Years accepted in a date (a typo like 20261 is refused rather than read).
inline constexpr int kSinceYearMin = 1970;
inline constexpr int kSinceYearMax = 9999;

// Unix seconds of "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" (UTC); nullopt for
// anything else, including impossible dates (2026-02-30) and times (24:00:00).
[[nodiscard]] std::optional<std::int64_t> parse_since(std::string_view text);

}  // namespace satload::safety
