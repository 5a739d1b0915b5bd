// Pins down the generic bech32/bech32m layer with BIP173's and BIP350's string vectors: the
// valid strings decode with the right checksum variant and re-encode to themselves (in lower
// case); each invalid string is refused for its published reason; a string valid in one
// variant is never valid in the other.
#include "chain/bech32.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace satload::chain {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace bech32_test {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

void expect_valid(std::string_view text, Bech32Encoding encoding) {
    const auto d = bech32_decode(text);
    ASSERT_TRUE(d.has_value()) << text << ": " << bech32_error_name(d.error());
    EXPECT_EQ(d->encoding, encoding) << text;
    EXPECT_EQ(bech32_encode(d->hrp, d->data, d->encoding), lower(text));
}

// BIP173's valid bech32 strings.
TEST(Bech32, Bip173ValidStrings) {
    for (const std::string_view s : {
             "A12UEL5L",
             "a12uel5l",
             "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1t"
             "t5tgs",
             "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
             "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc"
             "8247j",
             "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
             "?1ezyfcl",
         }) {
        expect_valid(s, Bech32Encoding::bech32);
    }
}

// BIP350's valid bech32m strings.
TEST(Bech32, Bip350ValidStrings) {
    for (const std::string_view s : {
             "A1LQFN3A",
             "a1lqfn3a",
             "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11s"
             "g7hg6",
             "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
             "11lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll"
             "udsr8",
             "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
             "?1v759aa",
         }) {
        expect_valid(s, Bech32Encoding::bech32m);
    }
}

struct Invalid {
    std::string text;
    Bech32Error error;
};

// BIP173's invalid bech32 strings, each for its stated reason.
TEST(Bech32, Bip173InvalidStrings) {
    const Invalid cases[] = {
        {std::string("\x20") + "1nwldj5", Bech32Error::character_out_of_range},
        {std::string("\x7f") + "1axkwrx", Bech32Error::character_out_of_range},
        {std::string("\x80") + "1eym55h", Bech32Error::character_out_of_range},
        {"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569p"
         "vx",
         Bech32Error::too_long},
        {"pzry9x0s0muk", Bech32Error::no_separator},
        {"1pzry9x0s0muk", Bech32Error::empty_hrp},
        {"x1b4n0q5v", Bech32Error::bad_character},
        {"li1dgmt3", Bech32Error::checksum_too_short},
        {std::string("de1lg7wt") + "\xff", Bech32Error::character_out_of_range},
        {"A1G7SGD8", Bech32Error::bad_checksum},  // checksum made over the upper-case HRP
        {"10a06t8", Bech32Error::empty_hrp},
        {"1qzzfhee", Bech32Error::empty_hrp},
    };
    for (const auto& c : cases) {
        const auto d = bech32_decode(c.text);
        ASSERT_FALSE(d.has_value()) << c.text;
        EXPECT_EQ(bech32_error_name(d.error()), bech32_error_name(c.error)) << c.text;
    }
}

// BIP350's invalid bech32m strings, each for its stated reason.
TEST(Bech32, Bip350InvalidStrings) {
    const Invalid cases[] = {
        {std::string("\x20") + "1xj0phk", Bech32Error::character_out_of_range},
        {std::string("\x7f") + "1g6xzxy", Bech32Error::character_out_of_range},
        {std::string("\x80") + "1vctc34", Bech32Error::character_out_of_range},
        {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pt"
         "s4",
         Bech32Error::too_long},
        {"qyrz8wqd2c9m", Bech32Error::no_separator},
        {"1qyrz8wqd2c9m", Bech32Error::empty_hrp},
        {"y1b0jsk6g", Bech32Error::bad_character},
        {"lt1igcx5c0", Bech32Error::bad_character},
        {"in1muywd", Bech32Error::checksum_too_short},
        {"mm1crxm3i", Bech32Error::bad_character},
        {"au1s5cgom", Bech32Error::bad_character},
        {"M1VUXWEZ", Bech32Error::bad_checksum},  // checksum made over the upper-case HRP
        {"16plkw9", Bech32Error::empty_hrp},
        {"1p2gdwpf", Bech32Error::empty_hrp},
    };
    for (const auto& c : cases) {
        const auto d = bech32_decode(c.text);
        ASSERT_FALSE(d.has_value()) << c.text;
        EXPECT_EQ(bech32_error_name(d.error()), bech32_error_name(c.error)) << c.text;
    }
}

// Mixed case is refused even when the checksum would be right in either case alone.
TEST(Bech32, MixedCaseRefused) {
    EXPECT_EQ(bech32_decode("a12UEL5L").error(), Bech32Error::mixed_case);
    EXPECT_EQ(bech32_decode("A12uel5l").error(), Bech32Error::mixed_case);
}

// Every single-character substitution of a valid string is caught (BIP173 guarantees it).
TEST(Bech32, SubstitutionsCaught) {
    const std::string good = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw";
    const std::string_view charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    for (std::size_t i = good.find('1') + 1; i < good.size(); ++i) {
        for (const char c : charset) {
            if (c == good[i]) continue;
            std::string changed = good;
            changed[i] = c;
            EXPECT_FALSE(bech32_decode(changed).has_value()) << changed;
        }
    }
}

// 8-to-5 and back: padding rules of BIP173 (at most 4 zero bits dropped).
TEST(ConvertBits, PaddingRules) {
    const std::vector<std::uint8_t> bytes = {0xff, 0x00, 0xab};
    const auto five = convert_bits(bytes, 8, 5, true);
    ASSERT_TRUE(five.has_value());
    EXPECT_EQ(five->size(), 5u);  // 24 bits: 4 groups of 5, then 4 bits padded with one zero
    const auto back = convert_bits(*five, 5, 8, false);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, bytes);
    // Non-zero padding bits.
    std::vector<std::uint8_t> bad = *five;
    bad.back() = static_cast<std::uint8_t>(bad.back() | 1);
    EXPECT_FALSE(convert_bits(bad, 5, 8, false).has_value());
    // A whole extra group of zeros is more than 4 padding bits.
    std::vector<std::uint8_t> extra = *five;
    extra.push_back(0);
    EXPECT_FALSE(convert_bits(extra, 5, 8, false).has_value());
    // A value wider than the input width.
    EXPECT_FALSE(convert_bits(std::vector<std::uint8_t>{32}, 5, 8, true).has_value());
}

}  // namespace bech32_test
}  // namespace
}  // namespace satload::chain
