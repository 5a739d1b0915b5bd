// The logged-in user's wallet from the client side: balance, history (grouped into receipts,
// a payment's legs shown as one receipt with its split), the referral code and a link that
// carries it, and earnings. Amounts are msat throughout; text shows sat alongside.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/account.h"
#include "client/error.h"
#include "client/http.h"
#include "client/link.h"

namespace satload::client {

// Entries asked for per history request (the server caps a page at 500).
inline constexpr std::size_t kHistoryRequestEntries = 200;
// Receipts `wallet history` shows unless told otherwise, and at most.
inline constexpr std::size_t kDefaultHistoryReceipts = 20;
inline constexpr std::size_t kMaxHistoryReceipts = 10'000;

// "1000000 msat (1000 sat)"; negative amounts get a '-' on both, `plus` adds '+' to positive ones.
[[nodiscard]] std::string amount_text(std::int64_t msat, bool plus = false);

struct WalletBalance {
    std::int64_t balance_msat = 0;
    std::int64_t available_msat = 0;
    std::int64_t pending_in_msat = 0;
    std::int64_t pending_out_msat = 0;
};
[[nodiscard]] ClientResult<WalletBalance> wallet_balance(const Session& session,
                                                         const HttpOptions& http);
[[nodiscard]] ClientResult<WalletBalance> parse_wallet_balance(std::string_view json_text);

// One movement of the wallet as GET /api/v1/wallet/history lists it.
struct WalletEntry {
    std::int64_t seq = 0;
    std::int64_t time_s = 0;
    std::string transfer_id;
    std::string group;             // the legs of one payment share it
    std::int64_t amount_msat = 0;  // signed: into (+) or out of (-) the wallet
    std::string kind;  // download_payment, referral_reward, platform_fee, adjustment, deposit, ...
    bool pending = false;
    std::string file_id;  // payments only
    std::string memo;
};
struct WalletPage {
    std::vector<WalletEntry> entries;  // newest first
    std::optional<std::int64_t> next_before;
};
[[nodiscard]] ClientResult<WalletPage> wallet_history_page(const Session& session,
                                                           std::int64_t before_seq,
                                                           std::size_t limit,
                                                           const HttpOptions& http);
[[nodiscard]] ClientResult<WalletPage> parse_wallet_page(std::string_view json_text);

// One receipt: the consecutive entries of one group. For a download this wallet paid, the
// split says where the price went; for money received it is the one leg.
struct Receipt {
    std::string group;
    std::int64_t seq = 0;  // the lowest seq of its entries (page with `before` = seq)
    std::int64_t time_s = 0;
    std::string kind;              // download_payment, referral_reward, adjustment, ... (see below)
    std::int64_t amount_msat = 0;  // the sum of the legs, signed
    bool pending = false;
    std::string file_id;
    std::string memo;
    bool paid_download = false;  // this wallet paid for a download: the split below is set
    std::int64_t uploader_msat = 0;
    std::int64_t referrer_msat = 0;
    std::int64_t platform_msat = 0;
    std::vector<WalletEntry> legs;
};
// Groups consecutive entries that share `group`. A receipt that pays for a download (negative
// download_payment / referral_reward / platform_fee legs) gets kind "download_payment" and
// its split; otherwise kind is the legs' kind when they agree, else "mixed".
[[nodiscard]] std::vector<Receipt> group_receipts(const std::vector<WalletEntry>& entries);
// Up to `count` whole receipts, newest first, older than `before_seq` (0: from the newest),
// reading as many pages as needed so no receipt is cut at a page boundary.
struct ReceiptPage {
    std::vector<Receipt> receipts;
    bool more = false;  // older receipts exist
};
[[nodiscard]] ClientResult<ReceiptPage> wallet_receipts(const Session& session,
                                                        std::int64_t before_seq, std::size_t count,
                                                        const HttpOptions& http);
// One line for people: what happened, the amount and, for payments, the split.
[[nodiscard]] std::string describe_receipt(const Receipt& receipt);

// The caller's referral code (GET /api/v1/wallet/referral).
[[nodiscard]] ClientResult<std::string> referral_code(const Session& session,
                                                      const HttpOptions& http);
// `link` with `?r=<code>` (any other referral code replaced). The code must be a referral code.
[[nodiscard]] ClientResult<std::string> link_with_referral(const Link& link, std::string_view code);

struct FileEarnings {
    std::string file_id;
    std::int64_t downloads = 0;
    std::int64_t gross_msat = 0;
    std::int64_t net_msat = 0;
};
struct Earnings {
    std::vector<FileEarnings> files;
    std::int64_t referral_payments = 0;
    std::int64_t referral_earned_msat = 0;
    std::int64_t total_msat = 0;
};
[[nodiscard]] ClientResult<Earnings> account_earnings(const Session& session,
                                                      const HttpOptions& http);
[[nodiscard]] ClientResult<Earnings> parse_earnings(std::string_view json_text);

// On-chain deposits and withdrawals (the server needs --node).
struct DepositAddress {
    std::string address;
    std::string uri;  // BIP21: bitcoin:ADDRESS
};
// POST /api/v1/wallet/deposit-address: the same address until it receives funds.
[[nodiscard]] ClientResult<DepositAddress> deposit_address(const Session& session, const HttpOptions& http);
[[nodiscard]] ClientResult<DepositAddress> parse_deposit_address(std::string_view json_text);

struct WithdrawalAnswer {
    std::string id;
    std::string status;  // broadcast, awaiting_approval, ...
    std::string txid;    // empty until broadcast
    std::int64_t amount_msat = 0;
    std::int64_t fee_msat = 0;
};
// Transport failures (no answer) a withdrawal request is sent again after, with the same key.
inline constexpr unsigned kWithdrawAttempts = 3;
// A new Idempotency-Key: 128 random bits, base64url (22 characters).
[[nodiscard]] std::string new_request_key();
// POST /api/v1/wallet/withdrawals {"address", "amount_msat"} with `request_key` as its
// Idempotency-Key: a retry (here on a transport failure, or a later run with the same key)
// answers the withdrawal the first request made instead of sending a second. A refusal (4xx)
// is an error with the server's reason (nothing was reserved).
[[nodiscard]] ClientResult<WithdrawalAnswer> withdraw(const Session& session,
                                                      std::string_view address,
                                                      std::int64_t amount_msat,
                                                      const std::string& request_key,
                                                      const HttpOptions& http);
[[nodiscard]] ClientResult<WithdrawalAnswer> parse_withdrawal(std::string_view json_text);
// The error to show when a withdrawal request sent under `request_key` was answered with a
// withdrawal that is not going out (a retry found it still being set up, or voided since);
// nullopt when it was sent, confirmed or waits for approval.
[[nodiscard]] std::optional<std::string> withdrawal_not_going_out(const WithdrawalAnswer& w,
                                                                  std::string_view request_key);

}  // namespace satload::client
