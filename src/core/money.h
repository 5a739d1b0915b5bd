// Amounts of money in millisatoshis: a signed 64-bit value with overflow-checked arithmetic,
// and the strict text forms of DESIGN.md (`<integer>msat`, `<decimal>sat`, `<decimal>btc`).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace satload {

inline constexpr std::int64_t kMsatPerSat = 1'000;
inline constexpr std::int64_t kSatPerBtc = 100'000'000;
inline constexpr std::int64_t kMsatPerBtc = kMsatPerSat * kSatPerBtc;
// Bitcoin's supply cap: no amount a user can name, and no single transfer, exceeds it.
inline constexpr std::int64_t kSupplyBtc = 21'000'000;
inline constexpr std::int64_t kSupplyMsat = kSupplyBtc * kMsatPerBtc;  // 2.1e18
// Decimal places each unit allows: sat to whole msat, btc to whole msat.
inline constexpr int kSatDecimalsMax = 3;
inline constexpr int kBtcDecimalsMax = 11;
// Longest amount text we look at; anything longer is refused before parsing.
inline constexpr std::size_t kAmountTextBytesMax = 64;

// A value type, not a bare integer, so amounts cannot be mixed up with counts or sizes.
struct Msat {
    std::int64_t value = 0;

    constexpr auto operator<=>(const Msat&) const = default;
};

enum class MoneyError {
    empty,                // ""
    too_long,             // more than kAmountTextBytesMax bytes
    missing_unit,         // a bare number: "5"
    unknown_unit,         // "5sats", "5BTC", "5 usd"
    sign,                 // "-5msat", "+5msat"
    exponent,             // "1e3sat"
    whitespace,           // " 5sat", "5 sat", "5sat\n"
    second_dot,           // "1.2.3sat"
    empty_integer_part,   // ".5sat"
    empty_fraction_part,  // "5.sat"
    fraction_not_allowed, // "1.5msat": msat is the smallest unit
    too_many_decimals,    // "1.0001sat", "1.000000000001btc"
    not_a_digit,          // "1x5sat", "0x10msat"
    above_supply,         // more than 21,000,000 btc
    overflow,             // arithmetic result does not fit in 64 bits
};

// Stable snake_case name of an error, for logs, tests and problem details.
[[nodiscard]] std::string_view money_error_name(MoneyError e);
// One clear sentence for users.
[[nodiscard]] std::string_view money_error_message(MoneyError e);

// Parses one of the three text forms. Never accepts a negative value or one above the supply;
// zero is accepted (callers that forbid it say so themselves).
[[nodiscard]] Result<Msat, MoneyError> parse_amount(std::string_view text);

// `<integer>msat`; the canonical, lossless form. Negative values get a leading '-', which
// parse_amount refuses: they appear only in reports (a balance owed), never as input.
[[nodiscard]] std::string format_msat(Msat amount);
// `<decimal>sat` / `<decimal>btc` with trailing fraction zeros (and a bare dot) removed.
[[nodiscard]] std::string format_sat(Msat amount);
[[nodiscard]] std::string format_btc(Msat amount);

[[nodiscard]] Result<Msat, MoneyError> checked_add(Msat a, Msat b);
[[nodiscard]] Result<Msat, MoneyError> checked_sub(Msat a, Msat b);
[[nodiscard]] Result<Msat, MoneyError> checked_mul(Msat a, std::int64_t factor);

// True for 0 <= amount <= kSupplyMsat: an amount that can be moved at all.
[[nodiscard]] constexpr bool within_supply(Msat amount) {
    return amount.value >= 0 && amount.value <= kSupplyMsat;
}

}  // namespace satload
