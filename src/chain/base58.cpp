// Base58 by repeated division (see base58.h for why it is ours).
#include "chain/base58.h"

#include <algorithm>
#include <array>

#include "chain/hashes.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::chain {
namespace {

constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

constexpr std::array<std::int8_t, 128> make_digit_table() {
    std::array<std::int8_t, 128> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        t[static_cast<std::size_t>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr std::array<std::int8_t, 128> kDigit = make_digit_table();

}  // namespace

std::string_view base58_error_name(Base58Error e) {
    switch (e) {
        case Base58Error::empty:
            return "empty";
        case Base58Error::too_long:
            return "too_long";
        case Base58Error::bad_character:
            return "bad_character";
        case Base58Error::too_short:
            return "too_short";
        case Base58Error::bad_checksum:
            return "bad_checksum";
    }
    return "unknown";
}

std::string base58_encode(ByteSpan bytes) {
    // Every leading zero byte is one leading '1'; the rest is a big-endian number in base 58.
    std::size_t zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
    // log(256)/log(58) < 1.37: enough digits for the number.
    std::vector<std::uint8_t> digits((bytes.size() - zeros) * 137 / 100 + 1, 0);
    std::size_t used = 0;  // significant digits so far, least significant first
    for (std::size_t i = zeros; i < bytes.size(); ++i) {
        unsigned carry = bytes[i];
        std::size_t j = 0;
        for (; j < used || carry != 0; ++j) {
            SATLOAD_ASSERT(j < digits.size());
            carry += 256u * digits[j];
            digits[j] = static_cast<std::uint8_t>(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    std::string out(zeros, '1');
    for (std::size_t j = used; j > 0; --j) out.push_back(kAlphabet[digits[j - 1]]);
    crypto::secure_wipe(digits.data(), digits.size());  // the number may be a private key
    return out;
}

Result<Bytes, Base58Error> base58_decode(std::string_view text) {
    if (text.empty()) return fail(Base58Error::empty);
    if (text.size() > kMaxBase58Chars) return fail(Base58Error::too_long);
    std::size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') ++ones;
    // log(58)/log(256) < 0.733: enough bytes for the number.
    std::vector<std::uint8_t> number((text.size() - ones) * 733 / 1000 + 1, 0);
    std::size_t used = 0;  // significant bytes so far, least significant first
    for (std::size_t i = ones; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= kDigit.size() || kDigit[c] < 0) return fail(Base58Error::bad_character);
        unsigned carry = static_cast<unsigned>(kDigit[c]);
        std::size_t j = 0;
        for (; j < used || carry != 0; ++j) {
            SATLOAD_ASSERT(j < number.size());
            carry += 58u * number[j];
            number[j] = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    Bytes out(ones, 0);
    out.reserve(ones + used);
    for (std::size_t j = used; j > 0; --j) out.push_back(number[j - 1]);
    crypto::secure_wipe(number.data(), number.size());  // the number may be a private key
    return out;
}

std::string base58check_encode(ByteSpan payload) {
    Bytes data(payload.begin(), payload.end());
    const Hash256 check = sha256d(payload);
    data.insert(data.end(), check.begin(), check.begin() + kBase58CheckBytes);
    std::string out = base58_encode(data);
    crypto::secure_wipe(data.data(), data.size());  // payloads may be private keys
    return out;
}

Result<Bytes, Base58Error> base58check_decode(std::string_view text) {
    auto data = base58_decode(text);
    if (!data) return fail(data.error());
    if (data->size() < kBase58CheckBytes) return fail(Base58Error::too_short);
    const std::size_t n = data->size() - kBase58CheckBytes;
    const Hash256 check = sha256d(ByteSpan(data->data(), n));
    if (!crypto::constant_time_equal(ByteSpan(check.data(), kBase58CheckBytes),
                                     ByteSpan(data->data() + n, kBase58CheckBytes))) {
        crypto::secure_wipe(data->data(), data->size());
        return fail(Base58Error::bad_checksum);
    }
    data->resize(n);
    return data;
}

}  // namespace satload::chain
