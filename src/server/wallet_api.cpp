// The wallet API for the logged-in user: GET /api/v1/wallet (balance), GET
// /api/v1/wallet/history (movements, newest first, paged by `before`), GET
// /api/v1/wallet/referral (the caller's referral code).
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "core/encoding.h"
#include "server/app.h"
#include "server/wallet_context.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// Entries of one history page by default (the service caps it at kHistoryPageMax).
constexpr std::size_t kHistoryPageDefault = 50;

// A non-negative integer query parameter: `fallback` when absent, nullopt when malformed.
std::optional<std::int64_t> query_int(const Request& req, std::string_view name, std::int64_t fallback) {
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) return std::nullopt;
    const auto params = url->params();
    const auto it = params.find(name);
    if (it == params.end()) return fallback;
    if (!(*it).has_value) return std::nullopt;
    const std::string value = (*it).value;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v < 0) return std::nullopt;
    return v;
}

}  // namespace

json::object wallet_entry_json(const payments::WalletEntry& e) {
    json::object o;
    o["seq"] = e.seq;
    o["time"] = e.time_ns / 1'000'000'000;
    o["transfer_id"] = ledger::id_hex(e.transfer_id);
    // The legs of one payment share their id's high half: clients group a receipt by it.
    o["group"] = ledger::id_hex(e.transfer_id).substr(0, 16);
    o["amount_msat"] = e.amount_msat;
    o["kind"] = payments::transfer_code_name(e.code);
    if (e.flags & ledger::transfer_flags::pending) o["pending"] = true;
    if (e.code == ledger::transfer_code::download_payment || e.code == ledger::transfer_code::referral_reward ||
        e.code == ledger::transfer_code::platform_fee) {
        const auto bytes = ledger::id_bytes(e.user_data);
        o["file_id"] = base64url_encode(bytes);
    }
    if (!e.memo.empty()) o["memo"] = e.memo;
    return o;
}

awaitable<void> App::wallet_route(Exchange& ex, std::span<const std::string_view> rest) {
    WalletContext* wallet = m_wallet;
    if (wallet == nullptr || m_accounts == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    if (ex.request().method() != http::verb::get) {
        co_return co_await send_problem(ex, Problem::method_not_allowed, "this method is not allowed on this resource");
    }
    if (rest.size() > 1 || (rest.size() == 1 && rest[0] != "history" && rest[0] != "referral")) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    const accounts::AccountId me = caller.principal->account_id;

    json::object body;
    if (rest.empty()) {
        const auto b = wallet->wallets.balance(me);
        body["balance_msat"] = b.balance_msat;
        body["available_msat"] = b.available_msat;
        body["pending_in_msat"] = b.pending_in_msat;
        body["pending_out_msat"] = b.pending_out_msat;
    } else if (rest[0] == "history") {
        const Request& req = ex.request();
        const auto before = query_int(req, "before", 0);
        const auto wanted = query_int(req, "limit", kHistoryPageDefault);
        if (!before || !wanted) {
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "before and limit must be non-negative integers");
        }
        const auto limit = static_cast<std::size_t>(
            std::clamp<std::int64_t>(*wanted, 1, static_cast<std::int64_t>(payments::kHistoryPageMax)));
        auto entries = wallet->wallets.history(me, *before, limit);
        if (!entries) co_return co_await send_problem(ex, Problem::unavailable, "the ledger is unavailable");
        json::array list;
        for (const auto& e : *entries) list.push_back(wallet_entry_json(e));
        body["entries"] = std::move(list);
        // The journal entries read may include non-movements; page on the last seq seen.
        if (entries->size() == limit) body["next_before"] = entries->back().seq;
    } else {
        auto code = wallet->paywall.referral_code(me);
        if (!code) co_return co_await send_problem(ex, Problem::internal, "storage failure");
        body["code"] = *code;
    }
    co_await send_text(ex, http::status::ok, json::serialize(body), "application/json");
}

}  // namespace satload::server
