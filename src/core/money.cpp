// Strict amount parsing and formatting. Written by hand (no strtod, no locale) so that the
// accepted language is exactly the one in DESIGN.md and every refusal has a name.
#include "core/money.h"

#include <array>

namespace satload {
namespace {

struct Unit {
    std::string_view suffix;
    std::int64_t msat_per_unit;
    int decimals_max;
};

// Longest suffix first is not needed: "msat" and "sat" are told apart by the digit before.
constexpr std::array<Unit, 3> kUnits = {{
    {"msat", 1, 0},
    {"sat", kMsatPerSat, kSatDecimalsMax},
    {"btc", kMsatPerBtc, kBtcDecimalsMax},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Splits "<number><unit>" at the first letter. Errors that concern the whole text (sign,
// whitespace, exponent) are named before the unit, so "-5msat" says "sign", not "unit".
Result<Msat, MoneyError> parse(std::string_view text) {
    if (text.empty()) return fail(MoneyError::empty);
    if (text.size() > kAmountTextBytesMax) return fail(MoneyError::too_long);
    for (char c : text) {
        if (is_space(c)) return fail(MoneyError::whitespace);
    }
    if (text.front() == '-' || text.front() == '+') return fail(MoneyError::sign);

    std::size_t number_end = 0;
    while (number_end < text.size() && !is_letter(text[number_end])) ++number_end;
    const std::string_view number = text.substr(0, number_end);
    std::string_view suffix = text.substr(number_end);

    // An exponent looks like "1e3sat": a letter 'e'/'E' followed by a digit or sign.
    if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E') &&
        (is_digit(suffix[1]) || suffix[1] == '-' || suffix[1] == '+')) {
        return fail(MoneyError::exponent);
    }
    for (char c : number) {
        if (c == '-' || c == '+') return fail(MoneyError::sign);
    }
    if (suffix.empty()) {
        if (number.empty()) return fail(MoneyError::empty);
        return fail(MoneyError::missing_unit);
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
        if (suffix == u.suffix) unit = &u;
    }
    if (unit == nullptr) {
        // "0x10msat": a letter inside what should be the number.
        for (const Unit& u : kUnits) {
            if (suffix.size() > u.suffix.size() && suffix.ends_with(u.suffix)) {
                return fail(MoneyError::not_a_digit);
            }
        }
        return fail(MoneyError::unknown_unit);
    }

    const std::size_t dot = number.find('.');
    const std::string_view integer_part = number.substr(0, dot);
    std::string_view fraction_part;
    if (dot != std::string_view::npos) {
        fraction_part = number.substr(dot + 1);
        if (fraction_part.find('.') != std::string_view::npos) {
            return fail(MoneyError::second_dot);
        }
    }
    if (integer_part.empty()) {
        return fail(dot == std::string_view::npos ? MoneyError::empty
                                                  : MoneyError::empty_integer_part);
    }
    for (char c : integer_part) {
        if (!is_digit(c)) return fail(MoneyError::not_a_digit);
    }
    for (char c : fraction_part) {
        if (!is_digit(c)) return fail(MoneyError::not_a_digit);
    }
    if (dot != std::string_view::npos) {
        if (unit->decimals_max == 0) return fail(MoneyError::fraction_not_allowed);
        if (fraction_part.empty()) return fail(MoneyError::empty_fraction_part);
        if (fraction_part.size() > static_cast<std::size_t>(unit->decimals_max)) {
            return fail(MoneyError::too_many_decimals);
        }
    }

    // Integer part times the unit, then the fraction scaled to msat, all overflow-checked;
    // overflow can only mean "far above the supply".
    std::int64_t whole = 0;
    for (char c : integer_part) {
        if (__builtin_mul_overflow(whole, std::int64_t{10}, &whole) ||
            __builtin_add_overflow(whole, std::int64_t{c - '0'}, &whole)) {
            return fail(MoneyError::above_supply);
        }
        if (whole > kSupplyMsat) return fail(MoneyError::above_supply);
    }
    std::int64_t msat = 0;
    if (__builtin_mul_overflow(whole, unit->msat_per_unit, &msat)) {
        return fail(MoneyError::above_supply);
    }
    std::int64_t fraction_msat = 0;
    std::int64_t scale = unit->msat_per_unit;
    for (char c : fraction_part) {
        scale /= 10;
        fraction_msat += (c - '0') * scale;
    }
    if (__builtin_add_overflow(msat, fraction_msat, &msat) || msat > kSupplyMsat) {
        return fail(MoneyError::above_supply);
    }
    return Msat{msat};
}

// Formats |value| / per_unit with up to `decimals` fraction digits, trailing zeros removed.
std::string format_decimal(std::int64_t value, std::int64_t per_unit, int decimals,
                           std::string_view suffix) {
    std::string out;
    // The magnitude of INT64_MIN does not fit in int64; unsigned arithmetic handles it.
    std::uint64_t magnitude = static_cast<std::uint64_t>(value);
    if (value < 0) {
        out += '-';
        magnitude = 0 - magnitude;
    }
    const auto unit = static_cast<std::uint64_t>(per_unit);
    out += std::to_string(magnitude / unit);
    std::uint64_t rest = magnitude % unit;
    if (rest != 0) {
        std::string fraction(static_cast<std::size_t>(decimals), '0');
        for (int i = decimals - 1; i >= 0; --i) {
            fraction[static_cast<std::size_t>(i)] = static_cast<char>('0' + rest % 10);
            rest /= 10;
        }
        while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
        out += '.';
        out += fraction;
    }
    out += suffix;
    return out;
}

}  // namespace

std::string_view money_error_name(MoneyError e) {
    switch (e) {
        case MoneyError::empty: return "empty";
        case MoneyError::too_long: return "too_long";
        case MoneyError::missing_unit: return "missing_unit";
        case MoneyError::unknown_unit: return "unknown_unit";
        case MoneyError::sign: return "sign";
        case MoneyError::exponent: return "exponent";
        case MoneyError::whitespace: return "whitespace";
        case MoneyError::second_dot: return "second_dot";
        case MoneyError::empty_integer_part: return "empty_integer_part";
        case MoneyError::empty_fraction_part: return "empty_fraction_part";
        case MoneyError::fraction_not_allowed: return "fraction_not_allowed";
        case MoneyError::too_many_decimals: return "too_many_decimals";
        case MoneyError::not_a_digit: return "not_a_digit";
        case MoneyError::above_supply: return "above_supply";
        case MoneyError::overflow: return "overflow";
    }
    return "unknown";
}

std::string_view money_error_message(MoneyError e) {
    switch (e) {
        case MoneyError::empty: return "the amount is empty";
        case MoneyError::too_long: return "the amount text is too long";
        case MoneyError::missing_unit:
            return "the amount has no unit: write e.g. 1500msat, 1.5sat or 0.00000002btc";
        case MoneyError::unknown_unit: return "unknown unit: use msat, sat or btc (lowercase)";
        case MoneyError::sign: return "an amount takes no sign";
        case MoneyError::exponent: return "an amount takes no exponent: write the digits out";
        case MoneyError::whitespace: return "an amount contains no spaces";
        case MoneyError::second_dot: return "an amount has at most one decimal point";
        case MoneyError::empty_integer_part: return "write a digit before the decimal point";
        case MoneyError::empty_fraction_part: return "write a digit after the decimal point";
        case MoneyError::fraction_not_allowed: return "msat amounts are whole numbers";
        case MoneyError::too_many_decimals:
            return "too many decimals: sat takes at most 3, btc at most 11";
        case MoneyError::not_a_digit: return "the amount contains a character that is not a digit";
        case MoneyError::above_supply: return "the amount is above the 21,000,000 btc supply";
        case MoneyError::overflow: return "the amount does not fit in 64 bits";
    }
    return "invalid amount";
}

Result<Msat, MoneyError> parse_amount(std::string_view text) { return parse(text); }

std::string format_msat(Msat amount) { return format_decimal(amount.value, 1, 0, "msat"); }

std::string format_sat(Msat amount) {
    return format_decimal(amount.value, kMsatPerSat, kSatDecimalsMax, "sat");
}

std::string format_btc(Msat amount) {
    return format_decimal(amount.value, kMsatPerBtc, kBtcDecimalsMax, "btc");
}

Result<Msat, MoneyError> checked_add(Msat a, Msat b) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(a.value, b.value, &out)) return fail(MoneyError::overflow);
    return Msat{out};
}

Result<Msat, MoneyError> checked_sub(Msat a, Msat b) {
    std::int64_t out = 0;
    if (__builtin_sub_overflow(a.value, b.value, &out)) return fail(MoneyError::overflow);
    return Msat{out};
}

Result<Msat, MoneyError> checked_mul(Msat a, std::int64_t factor) {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(a.value, factor, &out)) return fail(MoneyError::overflow);
    return Msat{out};
}

}  // namespace satload
