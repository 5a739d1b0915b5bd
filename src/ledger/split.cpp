// Splitting a price into shares without overflow and without losing a millisatoshi.
#include "ledger/split.h"

#include <array>
#include <charconv>

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::ledger {
namespace {

// floor(price * bp / 10000) without a 128-bit product: price = q * 10000 + r.
std::int64_t share_of(std::int64_t price_msat, std::uint32_t bp) {
    const std::int64_t q = price_msat / kBasisPointsTotal;
    const std::int64_t r = price_msat % kBasisPointsTotal;
    return q * bp + r * bp / kBasisPointsTotal;
}

}  // namespace

std::string_view split_error_name(SplitError e) {
    switch (e) {
        case SplitError::shares_do_not_add_up: return "shares_do_not_add_up";
        case SplitError::price_negative: return "price_negative";
        case SplitError::price_above_supply: return "price_above_supply";
        case SplitError::malformed_split: return "malformed_split";
    }
    return "unknown";
}

Result<PaymentSplit, SplitError> split_price(std::int64_t price_msat, const SplitShares& shares,
                                             bool has_referrer) {
    if (std::uint64_t{shares.uploader_bp} + shares.referrer_bp + shares.platform_bp !=
        kBasisPointsTotal) {
        return fail(SplitError::shares_do_not_add_up);
    }
    if (price_msat < 0) return fail(SplitError::price_negative);
    if (price_msat > kSupplyMsat) return fail(SplitError::price_above_supply);
    PaymentSplit s;
    s.platform_msat = share_of(price_msat, shares.platform_bp);
    s.referrer_msat = has_referrer ? share_of(price_msat, shares.referrer_bp) : 0;
    s.uploader_msat = price_msat - s.platform_msat - s.referrer_msat;
    SATLOAD_ASSERT(s.uploader_msat >= 0);
    SATLOAD_ASSERT(s.uploader_msat + s.referrer_msat + s.platform_msat == price_msat);
    return s;
}

Result<SplitShares, SplitError> parse_split_shares(std::string_view text) {
    std::array<std::uint32_t, 3> pct{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < pct.size(); ++i) {
        const std::size_t end = i + 1 < pct.size() ? text.find('/', pos) : text.size();
        if (end == std::string_view::npos || end == pos || end - pos > 3) {
            return fail(SplitError::malformed_split);
        }
        const std::string_view part = text.substr(pos, end - pos);
        for (char c : part) {
            if (c < '0' || c > '9') return fail(SplitError::malformed_split);
        }
        std::from_chars(part.data(), part.data() + part.size(), pct[i]);
        pos = end + 1;
    }
    if (pct[0] + pct[1] + pct[2] != 100) return fail(SplitError::shares_do_not_add_up);
    return SplitShares{pct[0] * 100, pct[1] * 100, pct[2] * 100};
}

Id128 payment_leg_id(Id128 payment_id, std::uint8_t leg) {
    constexpr std::string_view kDomain = "satload/v1 payment leg";
    crypto::Sha256 h;
    h.update(as_bytes(kDomain));
    h.update(id_bytes(payment_id));
    const std::array<std::uint8_t, 1> leg_byte = {leg};
    h.update(leg_byte);
    const crypto::Sha256Digest d = h.finish();
    std::uint64_t low = 0;
    for (std::size_t i = 0; i < 8; ++i) low = (low << 8) | d[i];
    return Id128{payment_id.high, low == 0 ? 1 : low};
}

Result<std::vector<Transfer>, SplitError> download_payment_transfers(
    const DownloadPayment& p, const SplitShares& shares) {
    std::vector<Transfer> legs;
    if (p.payer_account_id == p.uploader_account_id) {
        // The owner downloads their own file for free; still validate the price.
        auto s = split_price(p.price_msat, shares, false);
        if (!s) return fail(s.error());
        return legs;
    }
    const bool has_referrer = p.referrer_account_id &&
                              *p.referrer_account_id != p.payer_account_id &&
                              *p.referrer_account_id != p.uploader_account_id;
    const auto s = split_price(p.price_msat, shares, has_referrer);
    if (!s) return fail(s.error());
    DownloadPayment legs_of = p;
    if (!has_referrer) legs_of.referrer_account_id.reset();
    return download_payment_legs(legs_of, *s);
}

std::vector<Transfer> download_payment_legs(const DownloadPayment& p, const PaymentSplit& amounts) {
    std::vector<Transfer> legs;
    auto leg = [&](std::uint8_t index, Id128 credit, std::int64_t amount, std::uint16_t code) {
        if (amount == 0) return;
        Transfer t;
        t.id = payment_leg_id(p.payment_id, index);
        t.debit_account_id = p.payer_account_id;
        t.credit_account_id = credit;
        t.amount_msat = amount;
        t.code = code;
        t.user_data = p.user_data;
        t.flags = transfer_flags::linked;
        legs.push_back(t);
    };
    leg(0, p.uploader_account_id, amounts.uploader_msat, transfer_code::download_payment);
    if (p.referrer_account_id) {
        leg(1, *p.referrer_account_id, amounts.referrer_msat, transfer_code::referral_reward);
    }
    leg(2, p.platform_account_id, amounts.platform_msat, transfer_code::platform_fee);
    if (!legs.empty()) legs.back().flags &= static_cast<std::uint16_t>(~transfer_flags::linked);
    return legs;
}

}  // namespace satload::ledger
