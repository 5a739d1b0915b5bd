// The download-payment split: one atomic group of transfers from the payer to the uploader,
// the referrer and the platform, in shares that always add up to the price exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ledger/types.h"

namespace satload::ledger {

inline constexpr std::uint32_t kBasisPointsTotal = 10'000;

// Operator-configurable shares in basis points (1/100 of a percent); they must add up to
// kBasisPointsTotal. DESIGN.md's default is 80/10/10.
struct SplitShares {
    std::uint32_t uploader_bp = 8'000;
    std::uint32_t referrer_bp = 1'000;
    std::uint32_t platform_bp = 1'000;

    friend bool operator==(const SplitShares&, const SplitShares&) = default;
};

enum class SplitError {
    shares_do_not_add_up,  // the three shares are not 100% together
    price_negative,
    price_above_supply,
    malformed_split,       // text form not "U/R/P" in whole percents
};
[[nodiscard]] std::string_view split_error_name(SplitError e);

struct PaymentSplit {
    std::int64_t uploader_msat = 0;
    std::int64_t referrer_msat = 0;
    std::int64_t platform_msat = 0;

    friend bool operator==(const PaymentSplit&, const PaymentSplit&) = default;
};

// Referrer and platform get floor(price * share / 10000); the uploader gets the rest, so the
// legs sum to the price exactly and rounding always favours the uploader. Without a referrer
// its share goes to the uploader too.
[[nodiscard]] Result<PaymentSplit, SplitError> split_price(std::int64_t price_msat,
                                                           const SplitShares& shares,
                                                           bool has_referrer);

// Parses the `--split 80/10/10` form: three whole percents (uploader/referrer/platform)
// adding up to 100.
[[nodiscard]] Result<SplitShares, SplitError> parse_split_shares(std::string_view text);

struct DownloadPayment {
    Id128 payment_id;  // the caller's idempotency id for the whole payment
    Id128 payer_account_id;
    Id128 uploader_account_id;
    Id128 platform_account_id;
    std::optional<Id128> referrer_account_id;
    std::int64_t price_msat = 0;
    Id128 user_data;  // e.g. the file id, so wallet history can say what was bought
};

// Id of one leg, derived from the payment id so that a retried payment retries the same
// transfers: the payment id's high half (so time-ordered payment ids give time-ordered legs),
// then 8 bytes of SHA-256("satload/v1 payment leg" || payment id || leg).
[[nodiscard]] Id128 payment_leg_id(Id128 payment_id, std::uint8_t leg);

// The linked group for one download: payer -> uploader (download_payment), payer -> referrer
// (referral_reward), payer -> platform (platform_fee); legs of 0 msat left out. An owner
// downloading their own file pays nothing (empty group); a self-referral, or the uploader
// as referrer, counts as no referrer.
[[nodiscard]] Result<std::vector<Transfer>, SplitError> download_payment_transfers(
    const DownloadPayment& payment, const SplitShares& shares);

// The same group from amounts already split (a recorded payment settled or rebuilt after the
// shares changed): the referrer leg only with a referrer account; legs of 0 msat left out.
// `payment.price_msat` is not read.
[[nodiscard]] std::vector<Transfer> download_payment_legs(const DownloadPayment& payment,
                                                          const PaymentSplit& amounts);

}  // namespace satload::ledger
