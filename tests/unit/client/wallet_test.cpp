// The wallet's client side without a server: amounts as people read them, history entries
// grouped into receipts with the payment split, strict parsing of the wallet answers, and the
// referral code put into a link.
#include <gtest/gtest.h>

#include "client/wallet.h"
#include "core/money.h"

namespace satload::client {
namespace {

WalletEntry entry(std::int64_t seq, std::string group, std::int64_t amount, std::string kind,
                  std::string file_id = "") {
    WalletEntry e;
    e.seq = seq;
    e.time_s = 1'800'000'000 + seq;
    e.transfer_id = group + "0000000000000000";
    e.group = std::move(group);
    e.amount_msat = amount;
    e.kind = std::move(kind);
    e.file_id = std::move(file_id);
    return e;
}

// msat first, sat alongside, signs on both; fractions of a sat are kept exactly.
TEST(WalletText, AmountsShowMsatAndSat) {
    EXPECT_EQ(amount_text(1'000'000), "1000000 msat (1000 sat)");
    EXPECT_EQ(amount_text(1'000'001), "1000001 msat (1000.001 sat)");
    EXPECT_EQ(amount_text(0), "0 msat (0 sat)");
    EXPECT_EQ(amount_text(-800'000), "-800000 msat (-800 sat)");
    EXPECT_EQ(amount_text(7, true), "+7 msat (+0.007 sat)");
    EXPECT_EQ(amount_text(-7, true), "-7 msat (-0.007 sat)");
}

// The three legs of one paid download (same group) are one receipt: its amount is their sum
// and its split names each share; an unrelated entry around it stays its own receipt.
TEST(Receipts, PaymentLegsBecomeOneReceiptWithItsSplit) {
    const std::vector<WalletEntry> entries = {
        entry(12, "aaaa", -100'000, "platform_fee", "F1"),
        entry(11, "aaaa", -100'000, "referral_reward", "F1"),
        entry(10, "aaaa", -800'001, "download_payment", "F1"),
        entry(9, "bbbb", 5'000'000, "adjustment"),
    };
    const auto receipts = group_receipts(entries);
    ASSERT_EQ(receipts.size(), 2u);
    const Receipt& paid = receipts[0];
    EXPECT_TRUE(paid.paid_download);
    EXPECT_EQ(paid.kind, "download_payment");
    EXPECT_EQ(paid.amount_msat, -1'000'001);
    EXPECT_EQ(paid.uploader_msat, 800'001);
    EXPECT_EQ(paid.referrer_msat, 100'000);
    EXPECT_EQ(paid.platform_msat, 100'000);
    EXPECT_EQ(paid.uploader_msat + paid.referrer_msat + paid.platform_msat, -paid.amount_msat);
    EXPECT_EQ(paid.seq, 10);  // the oldest leg: paging with before=10 skips the whole receipt
    EXPECT_EQ(paid.legs.size(), 3u);
    EXPECT_EQ(paid.file_id, "F1");
    EXPECT_EQ(describe_receipt(paid),
              "paid a download of file F1: uploader 800001 msat (800.001 sat), referrer 100000 "
              "msat (100 sat), "
              "platform 100000 msat (100 sat)");
    const Receipt& credit = receipts[1];
    EXPECT_FALSE(credit.paid_download);
    EXPECT_EQ(credit.kind, "adjustment");
    EXPECT_EQ(credit.amount_msat, 5'000'000);
    EXPECT_EQ(describe_receipt(credit), "credited by the operator");
}

// Without a referrer there are two legs and the referrer's share is 0; money received for a
// download (the uploader's or referrer's one leg) is not a paid download.
TEST(Receipts, TwoLegPaymentsAndIncomingShares) {
    const auto two = group_receipts(
        {entry(5, "cccc", -100, "platform_fee"), entry(4, "cccc", -900, "download_payment")});
    ASSERT_EQ(two.size(), 1u);
    EXPECT_TRUE(two[0].paid_download);
    EXPECT_EQ(two[0].uploader_msat, 900);
    EXPECT_EQ(two[0].referrer_msat, 0);
    EXPECT_EQ(two[0].platform_msat, 100);

    const auto in = group_receipts({entry(8, "dddd", 800'000, "download_payment", "F2"),
                                    entry(7, "eeee", 100'000, "referral_reward", "F3")});
    ASSERT_EQ(in.size(), 2u);
    EXPECT_FALSE(in[0].paid_download);
    EXPECT_EQ(in[0].kind, "download_payment");
    EXPECT_EQ(describe_receipt(in[0]), "received for a download of file F2");
    EXPECT_EQ(describe_receipt(in[1]), "referral reward for a download of file F3");
}

// Only consecutive entries group: the same group id further down is another receipt, and an
// entry without a group is always alone.
TEST(Receipts, OnlyConsecutiveEntriesGroup) {
    const auto r =
        group_receipts({entry(4, "aaaa", 1, "adjustment"), entry(3, "bbbb", 2, "adjustment"),
                        entry(2, "aaaa", 3, "adjustment"), entry(1, "", 4, "deposit"),
                        entry(0, "", 5, "deposit")});
    ASSERT_EQ(r.size(), 5u);
}

// The history answer parses strictly: every documented field, optional ones absent or typed.
TEST(WalletParse, HistoryPage) {
    auto page = parse_wallet_page(
        R"({"entries":[{"seq":9,"time":1800000000,"transfer_id":"ab","group":"a","amount_msat":-5,)"
        R"("kind":"platform_fee","pending":true,"file_id":"F","memo":"m"}],"next_before":9})");
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->entries.size(), 1u);
    EXPECT_EQ(page->entries[0].amount_msat, -5);
    EXPECT_TRUE(page->entries[0].pending);
    EXPECT_EQ(page->entries[0].file_id, "F");
    EXPECT_EQ(page->next_before, 9);
    auto last = parse_wallet_page(R"({"entries":[]})");
    ASSERT_TRUE(last);
    EXPECT_FALSE(last->next_before);
    EXPECT_FALSE(parse_wallet_page(R"({"entries":[{"seq":1}]})"));
    EXPECT_FALSE(parse_wallet_page(R"({"entries":{}})"));
    EXPECT_FALSE(parse_wallet_page(R"({"entries":[],"next_before":"x"})"));
}

// Balance and earnings answers: all fields required, numbers only.
TEST(WalletParse, BalanceAndEarnings) {
    auto b = parse_wallet_balance(
        R"({"balance_msat":5,"available_msat":4,"pending_in_msat":1,"pending_out_msat":1})");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->balance_msat, 5);
    EXPECT_EQ(b->available_msat, 4);
    EXPECT_FALSE(parse_wallet_balance(R"({"balance_msat":5})"));
    EXPECT_FALSE(parse_wallet_balance(
        R"({"balance_msat":"5","available_msat":4,"pending_in_msat":1,"pending_out_msat":1})"));

    auto e =
        parse_earnings(R"({"files":[{"id":"F","downloads":2,"gross_msat":2000,"net_msat":1600}],)"
                       R"("referrals":{"payments":1,"earned_msat":100},"total_msat":1700})");
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_EQ(e->files.size(), 1u);
    EXPECT_EQ(e->files[0].downloads, 2);
    EXPECT_EQ(e->files[0].net_msat, 1600);
    EXPECT_EQ(e->referral_payments, 1);
    EXPECT_EQ(e->total_msat, 1700);
    EXPECT_FALSE(parse_earnings(R"({"files":[],"total_msat":0})"));
    EXPECT_FALSE(parse_earnings(
        R"({"files":[{"id":"F"}],"referrals":{"payments":0,"earned_msat":0},"total_msat":0})"));
}

// The referral code goes in as ?r= before the fragment and replaces any other; the rest of
// the link (server path, id, secret) is unchanged.
TEST(Share, LinkCarriesTheCallersCode) {
    auto plain =
        parse_link("http://127.0.0.1:8080/base/f/eRWGyhTojxf_sJpy3QQrGQ#O0vjvxR72l55ek2zbxkYTg");
    ASSERT_TRUE(plain);
    auto shared = link_with_referral(*plain, "cJjSYuQgRzxP");
    ASSERT_TRUE(shared);
    EXPECT_EQ(*shared,
              "http://127.0.0.1:8080/base/f/"
              "eRWGyhTojxf_sJpy3QQrGQ?r=cJjSYuQgRzxP#O0vjvxR72l55ek2zbxkYTg");
    auto other = parse_link(
        "http://127.0.0.1:8080/base/f/"
        "eRWGyhTojxf_sJpy3QQrGQ?r=someoneElse1#O0vjvxR72l55ek2zbxkYTg");
    ASSERT_TRUE(other);
    EXPECT_EQ(*link_with_referral(*other, "cJjSYuQgRzxP"), *shared);
    EXPECT_FALSE(link_with_referral(*plain, "bad code"));
    EXPECT_FALSE(link_with_referral(*plain, ""));
}

}  // namespace
}  // namespace satload::client
