// Pins down the download-payment split: default 80/10/10, remainder to the uploader, no
// referrer -> uploader, 0-msat legs left out, shares adding up to the price exactly.
#include "ledger/split.h"

#include <gtest/gtest.h>

#include <random>

namespace satload::ledger {
namespace {

constexpr Id128 kPayer{0, 1};
constexpr Id128 kUploader{0, 2};
constexpr Id128 kPlatform{0, 3};
constexpr Id128 kReferrer{0, 4};

DownloadPayment payment(std::int64_t price, std::optional<Id128> referrer) {
    DownloadPayment p;
    p.payment_id = Id128{7, 7};
    p.payer_account_id = kPayer;
    p.uploader_account_id = kUploader;
    p.platform_account_id = kPlatform;
    p.referrer_account_id = referrer;
    p.price_msat = price;
    return p;
}

// The default shares, exact division.
TEST(Split, DefaultEightyTenTen) {
    const auto s = split_price(10'000, SplitShares{}, true);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, (PaymentSplit{8'000, 1'000, 1'000}));
}

// Integer-division remainders go to the uploader.
TEST(Split, RemainderGoesToUploader) {
    EXPECT_EQ(*split_price(19, SplitShares{}, true), (PaymentSplit{17, 1, 1}));
    EXPECT_EQ(*split_price(9, SplitShares{}, true), (PaymentSplit{9, 0, 0}));
    EXPECT_EQ(*split_price(1, SplitShares{}, true), (PaymentSplit{1, 0, 0}));
}

// Without a referrer, the referrer's share goes to the uploader.
TEST(Split, NoReferrerMeansUploaderGetsTheShare) {
    EXPECT_EQ(*split_price(1'000, SplitShares{}, false), (PaymentSplit{900, 0, 100}));
}

// For any price up to the supply and any valid shares, the legs add up to the price.
TEST(Split, SharesAlwaysAddUpToThePrice) {
    std::mt19937_64 rng(99);
    for (int i = 0; i < 100'000; ++i) {
        const std::uint32_t p = static_cast<std::uint32_t>(rng() % 10'001);
        const std::uint32_t r = static_cast<std::uint32_t>(rng() % (10'001 - p));
        const SplitShares shares{10'000 - p - r, r, p};
        const std::int64_t price =
            i == 0 ? kSupplyMsat : static_cast<std::int64_t>(rng() % (kSupplyMsat + 1)) >> (rng() % 62);
        const auto s = split_price(price, shares, (i & 1) != 0);
        ASSERT_TRUE(s);
        ASSERT_EQ(s->uploader_msat + s->referrer_msat + s->platform_msat, price);
        ASSERT_GE(s->referrer_msat, 0);
        ASSERT_GE(s->platform_msat, 0);
        ASSERT_LE(s->platform_msat, price / 10'000 * p + p);  // never rounds up past the share
    }
}

// Bad shares and prices are refused by name.
TEST(Split, RefusesBadInput) {
    EXPECT_EQ(split_price(5, SplitShares{8'000, 1'000, 999}, true).error(),
              SplitError::shares_do_not_add_up);
    EXPECT_EQ(split_price(-1, SplitShares{}, true).error(), SplitError::price_negative);
    EXPECT_EQ(split_price(kSupplyMsat + 1, SplitShares{}, true).error(),
              SplitError::price_above_supply);
}

// The operator's `--split U/R/P` text form.
TEST(Split, ParsesTheSplitOption) {
    EXPECT_EQ(*parse_split_shares("80/10/10"), SplitShares{});
    EXPECT_EQ(*parse_split_shares("100/0/0"), (SplitShares{10'000, 0, 0}));
    EXPECT_EQ(parse_split_shares("80/10/11").error(), SplitError::shares_do_not_add_up);
    EXPECT_EQ(parse_split_shares("80/10").error(), SplitError::malformed_split);
    EXPECT_EQ(parse_split_shares("80/-10/30").error(), SplitError::malformed_split);
    EXPECT_EQ(parse_split_shares("80/10/10/0").error(), SplitError::malformed_split);
    EXPECT_EQ(parse_split_shares("80//20").error(), SplitError::malformed_split);
    EXPECT_EQ(parse_split_shares(" 80/10/10").error(), SplitError::malformed_split);
}

// The transfers: one linked group from the payer, legs in order, the last one closing the
// group, ids derived from the payment id (so a retry retries the same legs).
TEST(Split, BuildsOneLinkedGroup) {
    const auto legs = download_payment_transfers(payment(10'000, kReferrer), SplitShares{});
    ASSERT_TRUE(legs);
    ASSERT_EQ(legs->size(), 3U);
    EXPECT_EQ((*legs)[0].credit_account_id, kUploader);
    EXPECT_EQ((*legs)[0].amount_msat, 8'000);
    EXPECT_EQ((*legs)[0].code, transfer_code::download_payment);
    EXPECT_EQ((*legs)[1].credit_account_id, kReferrer);
    EXPECT_EQ((*legs)[1].code, transfer_code::referral_reward);
    EXPECT_EQ((*legs)[2].credit_account_id, kPlatform);
    EXPECT_EQ((*legs)[2].code, transfer_code::platform_fee);
    EXPECT_EQ((*legs)[0].flags, transfer_flags::linked);
    EXPECT_EQ((*legs)[1].flags, transfer_flags::linked);
    EXPECT_EQ((*legs)[2].flags, 0);
    for (const Transfer& t : *legs) EXPECT_EQ(t.debit_account_id, kPayer);
    EXPECT_NE((*legs)[0].id, (*legs)[1].id);
    const auto again = download_payment_transfers(payment(10'000, kReferrer), SplitShares{});
    EXPECT_EQ(*again, *legs);
}

// Legs of 0 msat are left out; no referrer, self-referral and uploader-as-referrer all pay
// the referrer share to the uploader; an owner downloads for free.
TEST(Split, EdgeCases) {
    auto legs = download_payment_transfers(payment(9, kReferrer), SplitShares{});
    ASSERT_EQ(legs->size(), 1U);
    EXPECT_EQ((*legs)[0].amount_msat, 9);
    EXPECT_EQ((*legs)[0].flags, 0);
    for (const auto& referrer : {std::optional<Id128>{}, std::optional(kPayer), std::optional(kUploader)}) {
        legs = download_payment_transfers(payment(1'000, referrer), SplitShares{});
        ASSERT_EQ(legs->size(), 2U);
        EXPECT_EQ((*legs)[0].amount_msat, 900);
        EXPECT_EQ((*legs)[1].amount_msat, 100);
    }
    DownloadPayment own = payment(1'000, kReferrer);
    own.payer_account_id = kUploader;
    EXPECT_TRUE(download_payment_transfers(own, SplitShares{})->empty());
    EXPECT_TRUE(download_payment_transfers(payment(0, kReferrer), SplitShares{})->empty());
}

// Leg ids keep the payment id's high half (its time prefix) and differ from each other and
// from other payments' legs.
TEST(Split, LegIdsFollowThePaymentId) {
    const Id128 payment = time_ordered_id(1'700'000'000'123'000'000, 0xbeef, 42);
    EXPECT_EQ(payment.high >> 16, 1'700'000'000'123U);
    const Id128 a = payment_leg_id(payment, 0);
    const Id128 b = payment_leg_id(payment, 1);
    EXPECT_EQ(a.high, payment.high);
    EXPECT_NE(a, b);
    EXPECT_NE(a, payment_leg_id(Id128{payment.high, 43}, 0));
    EXPECT_LT(time_ordered_id(1'000'000, 0xffff, ~0ULL), time_ordered_id(2'000'000, 0, 0));
    EXPECT_FALSE(time_ordered_id(0, 0, 0).is_zero());
}

}  // namespace
}  // namespace satload::ledger
