// Wallet requests and their strict parsing; receipts are grouped here, on the client, from the
// legs the server lists.
#include "client/wallet.h"

#include <boost/json.hpp>

#include <array>

#include "client/api.h"
#include "core/encoding.h"
#include "core/money.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace json = boost::json;

namespace {

constexpr std::string_view kUnitMsat = " msat";
constexpr std::string_view kKindDownloadPayment = "download_payment";
constexpr std::string_view kKindReferralReward = "referral_reward";
constexpr std::string_view kKindPlatformFee = "platform_fee";

bool is_payment_leg(std::string_view kind) {
    return kind == kKindDownloadPayment || kind == kKindReferralReward || kind == kKindPlatformFee;
}

std::string signed_number(std::int64_t value, bool plus) {
    std::string text = format_msat(Msat{value});
    text.resize(text.size() - 4);  // "msat"
    return (plus && value > 0 ? "+" : "") + text;
}

std::string signed_sat(std::int64_t value, bool plus) {
    std::string text = format_sat(Msat{value});
    text.resize(text.size() - 3);  // "sat"
    return (plus && value > 0 ? "+" : "") + text;
}

}  // namespace

std::string amount_text(std::int64_t msat, bool plus) {
    return signed_number(msat, plus) + std::string(kUnitMsat) + " (" + signed_sat(msat, plus) +
           " sat)";
}

ClientResult<WalletBalance> parse_wallet_balance(std::string_view text) {
    auto o = parse_json_object(text, "the balance request");
    if (!o) return tl::unexpected(o.error());
    const auto balance = json_int(*o, "balance_msat");
    const auto available = json_int(*o, "available_msat");
    const auto in = json_int(*o, "pending_in_msat");
    const auto out = json_int(*o, "pending_out_msat");
    if (!balance || !available || !in || !out) {
        return client_error(ErrorCode::protocol, "the server's balance answer is malformed");
    }
    return WalletBalance{*balance, *available, *in, *out};
}

ClientResult<WalletBalance> wallet_balance(const Session& session, const HttpOptions& http) {
    auto o = session_get_object(session, "/api/v1/wallet", "the balance request", http);
    if (!o) return tl::unexpected(o.error());
    return parse_wallet_balance(json::serialize(*o));
}

ClientResult<WalletPage> parse_wallet_page(std::string_view text) {
    auto o = parse_json_object(text, "the history request");
    if (!o) return tl::unexpected(o.error());
    const auto bad = [] {
        return client_error(ErrorCode::protocol, "the server's history answer is malformed");
    };
    const json::value* entries = o->if_contains("entries");
    if (entries == nullptr || !entries->is_array()) return bad();
    WalletPage page;
    for (const auto& item : entries->as_array()) {
        if (!item.is_object()) return bad();
        const auto& e = item.as_object();
        WalletEntry entry;
        const auto seq = json_int(e, "seq");
        const auto time = json_int(e, "time");
        auto id = json_text(e, "transfer_id");
        auto group = json_text(e, "group");
        const auto amount = json_int(e, "amount_msat");
        auto kind = json_text(e, "kind");
        if (!seq || !time || !id || !group || !amount || !kind) return bad();
        entry.seq = *seq;
        entry.time_s = *time;
        entry.transfer_id = printable(*id, 64);
        entry.group = printable(*group, 64);
        entry.amount_msat = *amount;
        entry.kind = printable(*kind, 64);
        entry.pending = json_flag(e, "pending").value_or(false);
        entry.file_id = printable(json_text(e, "file_id").value_or(""), 64);
        entry.memo = printable(json_text(e, "memo").value_or(""), kMaxProblemTextChars);
        page.entries.push_back(std::move(entry));
    }
    if (o->contains("next_before")) {
        const auto next = json_int(*o, "next_before");
        if (!next) return bad();
        page.next_before = *next;
    }
    return page;
}

ClientResult<WalletPage> wallet_history_page(const Session& session, std::int64_t before_seq,
                                             std::size_t limit, const HttpOptions& http) {
    std::string path = "/api/v1/wallet/history?limit=" + std::to_string(limit);
    if (before_seq > 0) path += "&before=" + std::to_string(before_seq);
    auto o = session_get_object(session, path, "the history request", http);
    if (!o) return tl::unexpected(o.error());
    return parse_wallet_page(json::serialize(*o));
}

std::vector<Receipt> group_receipts(const std::vector<WalletEntry>& entries) {
    std::vector<Receipt> out;
    for (const auto& e : entries) {
        if (out.empty() || out.back().group != e.group || e.group.empty()) {
            Receipt r;
            r.group = e.group;
            r.time_s = e.time_s;
            r.kind = e.kind;
            out.push_back(std::move(r));
        }
        Receipt& r = out.back();
        r.seq = r.legs.empty() ? e.seq : std::min(r.seq, e.seq);
        r.time_s = std::max(r.time_s, e.time_s);
        r.amount_msat += e.amount_msat;
        r.pending = r.pending || e.pending;
        if (r.file_id.empty()) r.file_id = e.file_id;
        if (r.memo.empty()) r.memo = e.memo;
        if (r.kind != e.kind) r.kind = "mixed";
        r.legs.push_back(e);
    }
    for (auto& r : out) {
        const bool paid = std::all_of(r.legs.begin(), r.legs.end(), [](const WalletEntry& e) {
            return is_payment_leg(e.kind) && e.amount_msat < 0;
        });
        if (!paid) continue;
        r.paid_download = true;
        r.kind = std::string(kKindDownloadPayment);
        for (const auto& e : r.legs) {
            if (e.kind == kKindDownloadPayment) r.uploader_msat -= e.amount_msat;
            if (e.kind == kKindReferralReward) r.referrer_msat -= e.amount_msat;
            if (e.kind == kKindPlatformFee) r.platform_msat -= e.amount_msat;
        }
    }
    return out;
}

ClientResult<ReceiptPage> wallet_receipts(const Session& session, std::int64_t before_seq,
                                          std::size_t count, const HttpOptions& http) {
    std::vector<WalletEntry> entries;
    std::int64_t before = before_seq;
    bool exhausted = false;
    // One receipt past `count` proves the last one wanted is whole (its group has ended).
    while (true) {
        auto page = wallet_history_page(session, before, kHistoryRequestEntries, http);
        if (!page) return tl::unexpected(page.error());
        for (auto& e : page->entries) entries.push_back(std::move(e));
        if (!page->next_before || *page->next_before <= 0 ||
            (before > 0 && *page->next_before >= before)) {
            exhausted = true;
            break;
        }
        before = *page->next_before;
        if (group_receipts(entries).size() > count) break;
    }
    ReceiptPage out;
    out.receipts = group_receipts(entries);
    out.more = !exhausted || out.receipts.size() > count;
    if (out.receipts.size() > count) out.receipts.resize(count);
    return out;
}

std::string describe_receipt(const Receipt& r) {
    std::string file = r.file_id.empty() ? "" : " of file " + r.file_id;
    std::string text;
    if (r.paid_download) {
        text = "paid a download" + file + ": uploader " + amount_text(r.uploader_msat) +
               ", referrer " + amount_text(r.referrer_msat) + ", platform " +
               amount_text(r.platform_msat);
    } else if (r.kind == kKindDownloadPayment) {
        text = r.amount_msat >= 0 ? "received for a download" + file : "download payment" + file;
    } else if (r.kind == kKindReferralReward) {
        text =
            r.amount_msat >= 0 ? "referral reward for a download" + file : "referral reward" + file;
    } else if (r.kind == kKindPlatformFee) {
        text = "platform fee" + file;
    } else if (r.kind == "adjustment") {
        text = r.amount_msat >= 0 ? "credited by the operator" : "debited by the operator";
    } else {
        text = r.kind;
        for (auto& c : text) {
            if (c == '_') c = ' ';
        }
        text += file;
    }
    if (!r.memo.empty()) text += " (" + r.memo + ")";
    if (r.pending) text += " [pending]";
    return text;
}

ClientResult<std::string> referral_code(const Session& session, const HttpOptions& http) {
    auto o =
        session_get_object(session, "/api/v1/wallet/referral", "the referral code request", http);
    if (!o) return tl::unexpected(o.error());
    auto code = json_text(*o, "code");
    if (!code || !is_referrer(*code)) {
        return client_error(ErrorCode::protocol, "the server's referral code is malformed");
    }
    return std::move(*code);
}

ClientResult<std::string> link_with_referral(const Link& link, std::string_view code) {
    if (!is_referrer(code)) return client_error(ErrorCode::bad_argument, "not a referral code");
    Link shared = link;
    shared.referrer = std::string(code);
    return format_link(shared);
}

ClientResult<Earnings> parse_earnings(std::string_view text) {
    auto o = parse_json_object(text, "the earnings request");
    if (!o) return tl::unexpected(o.error());
    const auto bad = [] {
        return client_error(ErrorCode::protocol, "the server's earnings answer is malformed");
    };
    const json::value* files = o->if_contains("files");
    const json::value* referrals = o->if_contains("referrals");
    const auto total = json_int(*o, "total_msat");
    if (files == nullptr || !files->is_array() || referrals == nullptr || !referrals->is_object() ||
        !total) {
        return bad();
    }
    Earnings out;
    for (const auto& item : files->as_array()) {
        if (!item.is_object()) return bad();
        const auto& f = item.as_object();
        const auto id = json_text(f, "id");
        const auto downloads = json_int(f, "downloads");
        const auto gross = json_int(f, "gross_msat");
        const auto net = json_int(f, "net_msat");
        if (!id || !downloads || !gross || !net) return bad();
        out.files.push_back(FileEarnings{printable(*id, 64), *downloads, *gross, *net});
    }
    const auto payments = json_int(referrals->as_object(), "payments");
    const auto earned = json_int(referrals->as_object(), "earned_msat");
    if (!payments || !earned) return bad();
    out.referral_payments = *payments;
    out.referral_earned_msat = *earned;
    out.total_msat = *total;
    return out;
}

ClientResult<Earnings> account_earnings(const Session& session, const HttpOptions& http) {
    auto o = session_get_object(session, "/api/v1/earnings", "the earnings request", http);
    if (!o) return tl::unexpected(o.error());
    return parse_earnings(json::serialize(*o));
}

ClientResult<DepositAddress> parse_deposit_address(std::string_view text) {
    auto o = parse_json_object(text, "the deposit address request");
    if (!o) return tl::unexpected(o.error());
    auto address = json_text(*o, "address");
    auto uri = json_text(*o, "uri");
    // An address is at most 90 characters (BIP173); anything else is not printed as one.
    if (!address || !uri || address->empty() || address->size() > 90 || printable(*address, 90) != *address ||
        *uri != "bitcoin:" + *address) {
        return client_error(ErrorCode::protocol, "the server's deposit address answer is malformed");
    }
    return DepositAddress{std::move(*address), std::move(*uri)};
}

ClientResult<DepositAddress> deposit_address(const Session& session, const HttpOptions& options) {
    HttpClient client(options);
    auto res = session_request(client, session, boost::beast::http::verb::post, "/api/v1/wallet/deposit-address", {});
    if (!res) return tl::unexpected(res.error());
    if (!res->ok()) return client_error(ErrorCode::http_status, "no deposit address: " + problem_detail(*res));
    return parse_deposit_address(res->body);
}

ClientResult<WithdrawalAnswer> parse_withdrawal(std::string_view text) {
    auto o = parse_json_object(text, "the withdrawal request");
    if (!o) return tl::unexpected(o.error());
    auto id = json_text(*o, "id");
    auto status = json_text(*o, "status");
    if (!id || !status) return client_error(ErrorCode::protocol, "the server's withdrawal answer is malformed");
    WithdrawalAnswer w;
    w.id = printable(*id, 64);
    w.status = printable(*status, 32);
    if (auto txid = json_text(*o, "txid")) w.txid = printable(*txid, 64);
    w.amount_msat = json_int(*o, "amount_msat").value_or(0);
    w.fee_msat = json_int(*o, "fee_msat").value_or(0);
    return w;
}

std::string new_request_key() {
    std::array<std::uint8_t, 16> random{};
    crypto::random_bytes(random);
    return base64url_encode(random);
}

std::optional<std::string> withdrawal_not_going_out(const WithdrawalAnswer& w,
                                                    std::string_view request_key) {
    if (w.status != "reserving" && w.status != "voided") return std::nullopt;
    std::string message = "withdrawal " + w.id + " is " + w.status;
    if (w.status == "reserving") {
        message +=
            ": its reservation is being settled; run the same command with --idempotency-key " +
            std::string(request_key) + " later to see its outcome";
    }
    return message;
}

ClientResult<WithdrawalAnswer> withdraw(const Session& session, std::string_view address,
                                        std::int64_t amount_msat, const std::string& request_key,
                                        const HttpOptions& options) {
    HttpClient client(options);
    const std::string body = json::serialize(json::object{{"address", address}, {"amount_msat", amount_msat}});
    const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", request_key}};
    const std::string retry_hint = "; run the same command with --idempotency-key " + request_key +
                                   " to see what became of it without sending a second withdrawal";
    auto res = session_request(client, session, boost::beast::http::verb::post,
                               "/api/v1/wallet/withdrawals", body, key);
    for (unsigned attempt = 1;
         !res && res.error().code == ErrorCode::network && attempt < kWithdrawAttempts; ++attempt) {
        client.close();  // the same key: the server makes at most one withdrawal of them
        res = session_request(client, session, boost::beast::http::verb::post,
                              "/api/v1/wallet/withdrawals", body, key);
    }
    if (!res) return client_error(res.error().code, res.error().message + retry_hint);
    // The server's 503 onchain-unavailable (no node, no fee rate, the hot wallet short) is a
    // refusal before anything is reserved; any other 5xx (also a proxy's 503) may come after.
    if (res->status >= 500 &&
        !(res->status == 503 && problem_slug(*res) == "onchain-unavailable")) {
        return client_error(ErrorCode::http_status,
                            "the server failed: " + problem_detail(*res) + retry_hint);
    }
    if (!res->ok()) {
        return client_error(res->status == 402 ? ErrorCode::payment_required : ErrorCode::http_status,
                            "withdrawal refused, nothing was reserved: " + problem_detail(*res));
    }
    return parse_withdrawal(res->body);
}

}  // namespace satload::client
