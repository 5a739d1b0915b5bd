// Parsing the transparency report's `since` (see transparency.h).
#include "safety/transparency.h"

namespace satload::safety {
namespace {

// The number of `width` decimal digits at `at`, or nullopt.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t width) {
    int v = 0;
    for (std::size_t i = at; i < at + width; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's method).
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = y / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<std::int64_t> parse_since(std::string_view text) {
    constexpr std::size_t kDateChars = 10;      // YYYY-MM-DD
    constexpr std::size_t kDateTimeChars = 20;  // YYYY-MM-DDTHH:MM:SSZ
    if (text.size() != kDateChars && text.size() != kDateTimeChars) return std::nullopt;
    if (text[4] != '-' || text[7] != '-') return std::nullopt;
    const auto y = digits(text, 0, 4);
    const auto m = digits(text, 5, 2);
    const auto d = digits(text, 8, 2);
    if (!y || !m || !d || *y < kSinceYearMin || *y > kSinceYearMax || *m < 1 || *m > 12) return std::nullopt;
    if (*d < 1 || *d > days_in_month(*y, *m)) return std::nullopt;
    std::int64_t seconds = days_from_civil(*y, *m, *d) * 86400;
    if (text.size() == kDateTimeChars) {
        if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z') return std::nullopt;
        const auto hh = digits(text, 11, 2);
        const auto mm = digits(text, 14, 2);
        const auto ss = digits(text, 17, 2);
        if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 59) return std::nullopt;
        seconds += *hh * 3600 + *mm * 60 + *ss;
    }
    return seconds;
}

}  // namespace satload::safety
