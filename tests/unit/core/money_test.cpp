// Pins down the amount language of DESIGN.md: the three accepted forms, every named refusal,
// the supply cap, formatting back, and overflow-checked arithmetic.
#include "core/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

namespace satload {
namespace {

std::int64_t parsed(std::string_view text) {
    const auto r = parse_amount(text);
    EXPECT_TRUE(r) << text << ": " << (r ? "" : money_error_name(r.error()));
    return r ? r->value : -1;
}

MoneyError refused(std::string_view text) {
    const auto r = parse_amount(text);
    EXPECT_FALSE(r) << text << " was accepted as " << (r ? r->value : 0);
    return r ? MoneyError::overflow : r.error();
}

// Each unit scales to msat exactly, including the finest decimal each unit allows.
TEST(Money, ParsesTheThreeForms) {
    EXPECT_EQ(parsed("0msat"), 0);
    EXPECT_EQ(parsed("1msat"), 1);
    EXPECT_EQ(parsed("1500msat"), 1500);
    EXPECT_EQ(parsed("1sat"), 1000);
    EXPECT_EQ(parsed("1.5sat"), 1500);
    EXPECT_EQ(parsed("0.001sat"), 1);
    EXPECT_EQ(parsed("12.345sat"), 12345);
    EXPECT_EQ(parsed("1btc"), 100'000'000'000);
    EXPECT_EQ(parsed("0.00000001btc"), 1000);
    EXPECT_EQ(parsed("0.00000000001btc"), 1);
    EXPECT_EQ(parsed("21000000btc"), kSupplyMsat);
    EXPECT_EQ(parsed("007sat"), 7000);  // leading zeros change nothing
    EXPECT_EQ(parsed("1.10sat"), 1100);
}

// Every malformed form named in issue 3 and DESIGN.md is refused with its own reason.
TEST(Money, RefusesMalformedTextWithNamedReasons) {
    EXPECT_EQ(refused("1.2.3sat"), MoneyError::second_dot);
    EXPECT_EQ(refused("-5msat"), MoneyError::sign);
    EXPECT_EQ(refused("+5msat"), MoneyError::sign);
    EXPECT_EQ(refused("5-msat"), MoneyError::sign);
    EXPECT_EQ(refused("1e3sat"), MoneyError::exponent);
    EXPECT_EQ(refused("1E3sat"), MoneyError::exponent);
    EXPECT_EQ(refused("1.5e-3btc"), MoneyError::exponent);
    EXPECT_EQ(refused("5"), MoneyError::missing_unit);
    EXPECT_EQ(refused("1.5"), MoneyError::missing_unit);
    EXPECT_EQ(refused(""), MoneyError::empty);
    EXPECT_EQ(refused("sat"), MoneyError::empty);
    EXPECT_EQ(refused(".5sat"), MoneyError::empty_integer_part);
    EXPECT_EQ(refused("5.sat"), MoneyError::empty_fraction_part);
    EXPECT_EQ(refused("1.5msat"), MoneyError::fraction_not_allowed);
    EXPECT_EQ(refused("1.0001sat"), MoneyError::too_many_decimals);
    EXPECT_EQ(refused("0.000000000001btc"), MoneyError::too_many_decimals);
    EXPECT_EQ(refused(" 5sat"), MoneyError::whitespace);
    EXPECT_EQ(refused("5 sat"), MoneyError::whitespace);
    EXPECT_EQ(refused("5sat\n"), MoneyError::whitespace);
    EXPECT_EQ(refused("5\tsat"), MoneyError::whitespace);
    EXPECT_EQ(refused("5sats"), MoneyError::unknown_unit);
    EXPECT_EQ(refused("5BTC"), MoneyError::unknown_unit);
    EXPECT_EQ(refused("5usd"), MoneyError::unknown_unit);
    EXPECT_EQ(refused("0x10msat"), MoneyError::not_a_digit);
    EXPECT_EQ(refused("1_000sat"), MoneyError::not_a_digit);
    EXPECT_EQ(refused("1,5sat"), MoneyError::not_a_digit);
    EXPECT_EQ(refused("\xd9\xa5sat"), MoneyError::not_a_digit);  // Arabic-Indic five
    EXPECT_EQ(refused(std::string(kAmountTextBytesMax + 1, '1') + "msat"), MoneyError::too_long);
}

// The supply cap is exact: 21M btc is accepted, one msat more is not, in every unit.
TEST(Money, RefusesAmountsAboveTheSupply) {
    EXPECT_EQ(parsed("2100000000000000000msat"), kSupplyMsat);
    EXPECT_EQ(refused("2100000000000000001msat"), MoneyError::above_supply);
    EXPECT_EQ(refused("21000000.00000000001btc"), MoneyError::above_supply);
    EXPECT_EQ(refused("2100000000000000.001sat"), MoneyError::above_supply);
    EXPECT_EQ(refused("9223372036854775808msat"), MoneyError::above_supply);  // > INT64_MAX
    EXPECT_EQ(refused("99999999999999999999999999999999btc"), MoneyError::above_supply);
    EXPECT_EQ(refused("92233720368547758btc"), MoneyError::above_supply);  // unit mul overflows
}

// Formatting is canonical: trailing zeros go, whole values lose the dot, msat is lossless.
TEST(Money, FormatsEachUnit) {
    EXPECT_EQ(format_msat(Msat{0}), "0msat");
    EXPECT_EQ(format_msat(Msat{1500}), "1500msat");
    EXPECT_EQ(format_sat(Msat{1500}), "1.5sat");
    EXPECT_EQ(format_sat(Msat{1000}), "1sat");
    EXPECT_EQ(format_sat(Msat{1}), "0.001sat");
    EXPECT_EQ(format_btc(Msat{1}), "0.00000000001btc");
    EXPECT_EQ(format_btc(Msat{kSupplyMsat}), "21000000btc");
    EXPECT_EQ(format_btc(Msat{150'000'000'000}), "1.5btc");
    EXPECT_EQ(format_msat(Msat{-5}), "-5msat");
    EXPECT_EQ(format_sat(Msat{-1500}), "-1.5sat");
    EXPECT_EQ(format_msat(Msat{std::numeric_limits<std::int64_t>::min()}),
              "-9223372036854775808msat");
}

// Any amount within the supply survives format then parse, in all three units.
TEST(Money, FormatThenParseRoundTrips) {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<std::int64_t> any(0, kSupplyMsat);
    for (int i = 0; i < 20000; ++i) {
        const Msat m{i < 10 ? i : any(rng) >> (rng() % 60)};
        for (const std::string& text : {format_msat(m), format_sat(m), format_btc(m)}) {
            const auto back = parse_amount(text);
            ASSERT_TRUE(back) << text;
            ASSERT_EQ(back->value, m.value) << text;
        }
    }
}

// Arithmetic names overflow instead of wrapping around.
TEST(Money, CheckedArithmeticRefusesOverflow) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(checked_add(Msat{2}, Msat{3})->value, 5);
    EXPECT_EQ(checked_sub(Msat{2}, Msat{3})->value, -1);
    EXPECT_EQ(checked_mul(Msat{7}, 6)->value, 42);
    EXPECT_EQ(checked_add(Msat{max}, Msat{1}).error(), MoneyError::overflow);
    EXPECT_EQ(checked_sub(Msat{min}, Msat{1}).error(), MoneyError::overflow);
    EXPECT_EQ(checked_mul(Msat{kSupplyMsat}, 5).error(), MoneyError::overflow);
    EXPECT_EQ(checked_add(Msat{max - 1}, Msat{1})->value, max);
    EXPECT_TRUE(within_supply(Msat{kSupplyMsat}));
    EXPECT_FALSE(within_supply(Msat{kSupplyMsat + 1}));
    EXPECT_FALSE(within_supply(Msat{-1}));
}

// Every error has a distinct stable name and a message, so the CLI can print one clear line.
TEST(Money, EveryErrorHasANameAndMessage) {
    for (int e = 0; e <= static_cast<int>(MoneyError::overflow); ++e) {
        const auto error = static_cast<MoneyError>(e);
        EXPECT_NE(money_error_name(error), "unknown");
        EXPECT_FALSE(money_error_message(error).empty());
    }
}

}  // namespace
}  // namespace satload
