// Bech32/Bech32m checksums (the BCH code of BIP173 with BIP350's final constant).
#include "chain/bech32.h"

#include <array>

#include "core/check.h"

namespace satload::chain {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::uint32_t kBech32Constant = 1;
constexpr std::uint32_t kBech32mConstant = 0x2bc830a3;
constexpr std::size_t kMaxHrpChars = kMaxBech32Chars - 1 - kBech32ChecksumChars;  // 83

constexpr std::array<std::int8_t, 128> make_charset_rev() {
    std::array<std::int8_t, 128> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < kCharset.size(); ++i) {
        t[static_cast<std::size_t>(kCharset[i])] = static_cast<std::int8_t>(i);
        // Uppercase letters decode like lowercase; case consistency is checked separately.
        const char c = kCharset[i];
        if (c >= 'a' && c <= 'z')
            t[static_cast<std::size_t>(c - 'a' + 'A')] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr std::array<std::int8_t, 128> kCharsetRev = make_charset_rev();

std::uint32_t polymod(std::span<const std::uint8_t> values) {
    constexpr std::array<std::uint32_t, 5> kGen = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                                   0x2a1462b3};
    std::uint32_t chk = 1;
    for (const std::uint8_t v : values) {
        const std::uint32_t top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (std::size_t i = 0; i < kGen.size(); ++i) {
            if ((top >> i) & 1) chk ^= kGen[i];
        }
    }
    return chk;
}

// The HRP's high bits, a zero, then its low bits (BIP173's hrp_expand).
std::vector<std::uint8_t> hrp_expand(std::string_view hrp) {
    std::vector<std::uint8_t> out;
    out.reserve(hrp.size() * 2 + 1);
    for (const char c : hrp)
        out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    out.push_back(0);
    for (const char c : hrp)
        out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
    return out;
}

std::uint32_t constant_for(Bech32Encoding e) {
    return e == Bech32Encoding::bech32 ? kBech32Constant : kBech32mConstant;
}

}  // namespace

std::string_view bech32_error_name(Bech32Error e) {
    switch (e) {
        case Bech32Error::too_long:
            return "too_long";
        case Bech32Error::character_out_of_range:
            return "character_out_of_range";
        case Bech32Error::mixed_case:
            return "mixed_case";
        case Bech32Error::no_separator:
            return "no_separator";
        case Bech32Error::empty_hrp:
            return "empty_hrp";
        case Bech32Error::bad_character:
            return "bad_character";
        case Bech32Error::checksum_too_short:
            return "checksum_too_short";
        case Bech32Error::bad_checksum:
            return "bad_checksum";
    }
    return "unknown";
}

std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data,
                          Bech32Encoding encoding) {
    SATLOAD_ASSERT(!hrp.empty() && hrp.size() <= kMaxHrpChars);
    for (const char c : hrp) SATLOAD_ASSERT(c >= 33 && c <= 126 && !(c >= 'A' && c <= 'Z'));
    SATLOAD_ASSERT(hrp.size() + 1 + data.size() + kBech32ChecksumChars <= kMaxBech32Chars);

    std::vector<std::uint8_t> values = hrp_expand(hrp);
    for (const std::uint8_t d : data) {
        SATLOAD_ASSERT(d < 32);
        values.push_back(d);
    }
    values.insert(values.end(), kBech32ChecksumChars, 0);
    const std::uint32_t mod = polymod(values) ^ constant_for(encoding);

    std::string out(hrp);
    out.push_back('1');
    for (const std::uint8_t d : data) out.push_back(kCharset[d]);
    for (std::size_t i = 0; i < kBech32ChecksumChars; ++i) {
        out.push_back(kCharset[(mod >> (5 * (5 - i))) & 31]);
    }
    return out;
}

Result<Bech32Decoded, Bech32Error> bech32_decode(std::string_view text) {
    if (text.size() > kMaxBech32Chars) return fail(Bech32Error::too_long);
    bool lower = false;
    bool upper = false;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 33 || c > 126) return fail(Bech32Error::character_out_of_range);
        if (c >= 'a' && c <= 'z') lower = true;
        if (c >= 'A' && c <= 'Z') upper = true;
    }
    if (lower && upper) return fail(Bech32Error::mixed_case);
    const std::size_t sep = text.rfind('1');
    if (sep == std::string_view::npos) return fail(Bech32Error::no_separator);
    if (sep == 0) return fail(Bech32Error::empty_hrp);

    Bech32Decoded out;
    out.hrp.reserve(sep);
    for (std::size_t i = 0; i < sep; ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        out.hrp.push_back(c);
    }
    std::vector<std::uint8_t> values;
    values.reserve(text.size() - sep - 1);
    for (std::size_t i = sep + 1; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::int8_t v = c < kCharsetRev.size() ? kCharsetRev[c] : -1;
        if (v < 0) return fail(Bech32Error::bad_character);
        values.push_back(static_cast<std::uint8_t>(v));
    }
    if (values.size() < kBech32ChecksumChars) return fail(Bech32Error::checksum_too_short);

    std::vector<std::uint8_t> check = hrp_expand(out.hrp);
    check.insert(check.end(), values.begin(), values.end());
    const std::uint32_t mod = polymod(check);
    if (mod == kBech32Constant) {
        out.encoding = Bech32Encoding::bech32;
    } else if (mod == kBech32mConstant) {
        out.encoding = Bech32Encoding::bech32m;
    } else {
        return fail(Bech32Error::bad_checksum);
    }
    values.resize(values.size() - kBech32ChecksumChars);
    out.data = std::move(values);
    return out;
}

std::optional<std::vector<std::uint8_t>> convert_bits(std::span<const std::uint8_t> in,
                                                      int from_bits, int to_bits, bool pad) {
    SATLOAD_ASSERT(from_bits > 0 && from_bits <= 8 && to_bits > 0 && to_bits <= 8);
    std::uint32_t acc = 0;
    int bits = 0;
    const std::uint32_t max_value = (1u << to_bits) - 1;
    std::vector<std::uint8_t> out;
    out.reserve(
        in.size() * static_cast<std::size_t>(from_bits) / static_cast<std::size_t>(to_bits) + 1);
    for (const std::uint8_t v : in) {
        if ((v >> from_bits) != 0) return std::nullopt;
        acc = (acc << from_bits) | v;
        bits += from_bits;
        while (bits >= to_bits) {
            bits -= to_bits;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & max_value));
        }
        acc &= (1u << bits) - 1;  // keep only the bits not yet emitted
    }
    if (pad) {
        if (bits > 0)
            out.push_back(static_cast<std::uint8_t>((acc << (to_bits - bits)) & max_value));
    } else if (bits >= from_bits || ((acc << (to_bits - bits)) & max_value) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace satload::chain
