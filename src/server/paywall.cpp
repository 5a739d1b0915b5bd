// Paid downloads over HTTP: POST /api/v1/pay (pays a 402 challenge's invoice from the
// caller's wallet and answers the L402 credential) and GET /api/v1/earnings.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/encoding.h"
#include "core/money.h"
#include "server/app.h"
#include "server/json_body.h"
#include "server/session_cookie.h"
#include "server/wallet_context.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// A pay request is an invoice (under 128 characters) and a number.
constexpr std::size_t kPayBodyBytesMax = 2 * 1024;

Problem problem_of(payments::PayError e) {
    using payments::PayError;
    switch (e) {
        case PayError::invoice_invalid: return Problem::bad_request;
        case PayError::invoice_expired: return Problem::conflict;
        case PayError::file_gone: return Problem::gone;
        case PayError::price_changed: return Problem::conflict;
        case PayError::price_above_maximum: return Problem::price_above_maximum;
        case PayError::not_priced: return Problem::conflict;
        case PayError::own_file: return Problem::conflict;
        case PayError::insufficient_funds: return Problem::insufficient_funds;
        case PayError::unavailable: return Problem::unavailable;
    }
    return Problem::internal;
}

using LedgerOutcome = ledger::LedgerResult<std::vector<ledger::TransferOutcome>>;

// The ledger's outcome of `legs`, handed to the awaiting coroutine's executor by the ledger's
// writer once their batch is durable: no thread waits while the batch commits.
template <class Token>
auto async_submit(ledger::Ledger& ledger, std::vector<ledger::Transfer> legs, Token&& token) {
    return boost::asio::async_initiate<Token, void(LedgerOutcome)>(
        [&ledger](auto handler, std::vector<ledger::Transfer> group) {
            using Handler = decltype(handler);
            // Tracked: the loop keeps running until the answer arrives.
            auto executor = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                                boost::asio::execution::outstanding_work.tracked);
            auto waiting = std::make_shared<Handler>(std::move(handler));
            ledger.submit_transfers_then(
                std::move(group), [waiting, executor](LedgerOutcome outcome) {
                    boost::asio::post(executor, [waiting, outcome = std::move(outcome)]() mutable {
                        (*waiting)(std::move(outcome));
                    });
                });
        },
        token, std::move(legs));
}

}  // namespace

awaitable<void> App::pay(Exchange& ex) {
    WalletContext* wallet = m_wallet;
    if (wallet == nullptr || m_accounts == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in to pay");
    JsonBody body = co_await read_json_object(ex, kPayBodyBytesMax);
    if (body.connection_failed) co_return;
    if (!body.object) co_return co_await send_problem(ex, body.problem, body.detail);
    const auto invoice = json_string(*body.object, "invoice");
    const auto max_msat = json_int64(*body.object, "max_msat");
    if (!invoice || !max_msat || *max_msat < 0) {
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "the body must be {\"invoice\": string, \"max_msat\": integer >= 0}");
    }
    const accounts::AccountId payer = caller.principal->account_id;
    const std::string invoice_text = *invoice;
    const std::int64_t max = *max_msat;
    std::optional<payments::PayResult<payments::PaidGrant>> answer;
    if (wallet->paywall.inline_payments()) {
        // The common payment: its checks and reads here (local stores), its group committed
        // with every other payment in flight, its record and grant here again. Thread hand-offs
        // were most of a payment's cost.
        auto start = wallet->paywall.begin_inline(payer, invoice_text, max);
        if (start.answer) {
            answer = std::move(start.answer);
        } else if (start.pending) {
            std::vector<ledger::Transfer> legs = std::move(start.pending->legs);
            LedgerOutcome outcome = co_await async_submit(wallet->wallets.ledger(), std::move(legs),
                                                          boost::asio::use_awaitable);
            answer = wallet->paywall.finish_inline(std::move(start.pending), std::move(outcome));
        }
    }
    if (!answer) {
        // On the blocking pool: anything that waits (a wallet to create, a held or unfinished
        // attempt, a busy lock, PostgreSQL), while this I/O thread serves others.
        answer =
            co_await m_blocking.run([&] { return wallet->paywall.pay(payer, invoice_text, max); });
    }
    auto& grant = *answer;
    if (!grant) co_return co_await send_problem(ex, problem_of(grant.error().code), grant.error().message);
    const auto& a = grant->attempt;
    json::object receipt;
    receipt["payment_id"] = ledger::id_hex(grant->payment_id);
    receipt["file_id"] = a.file_id;
    receipt["price_msat"] = a.price_msat;
    receipt["uploader_msat"] = a.uploader_msat;
    receipt["referrer_msat"] = a.referrer_msat;
    receipt["platform_msat"] = a.platform_msat;
    receipt["charged"] = grant->charged_now;
    receipt["expires"] = a.expires_s;
    json::object out;
    out["preimage"] = grant->preimage_hex;
    out["macaroon"] = grant->macaroon;
    out["receipt"] = std::move(receipt);
    std::string text = json::serialize(out);
    crypto::secure_wipe(grant->preimage_hex.data(), grant->preimage_hex.size());
    const Request& req = ex.request();
    StringResponse res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");  // a bearer credential
    res.keep_alive(ex.keep_alive());
    res.body() = std::move(text);
    res.prepare_payload();
    co_await ex.send(std::move(res));
}

awaitable<void> App::earnings(Exchange& ex) {
    WalletContext* wallet = m_wallet;
    if (wallet == nullptr || m_accounts == nullptr) {
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    }
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in first");
    const accounts::AccountId me = caller.principal->account_id;
    auto files = wallet->paywall.earnings(me);
    auto referrals = wallet->paywall.referral_earnings(me);
    if (!files || !referrals) co_return co_await send_problem(ex, Problem::internal, "storage failure");
    json::array list;
    std::int64_t total = 0;
    for (const auto& f : *files) {
        json::object o;
        o["id"] = f.file_id;
        o["downloads"] = f.downloads;
        o["gross_msat"] = f.gross_msat;
        o["net_msat"] = f.net_msat;
        o["held_msat"] = f.held_msat;  // under an open copyright report: not in net_msat yet
        total += f.net_msat;
        list.push_back(std::move(o));
    }
    json::object body;
    body["files"] = std::move(list);
    json::object ref;
    ref["payments"] = referrals->payments;
    ref["earned_msat"] = referrals->earned_msat;
    body["referrals"] = std::move(ref);
    body["total_msat"] = total + referrals->earned_msat;
    co_await send_text(ex, http::status::ok, json::serialize(body), "application/json");
}

awaitable<bool> App::paywall_gate(Exchange& ex, const store::FileRecord& file) {
    WalletContext* wallet = m_wallet;
    if (file.price_msat <= 0 || wallet == nullptr || m_accounts == nullptr) co_return true;
    const Request& req = ex.request();
    const auto auth = req.find(http::field::authorization);
    // The web app's session cookie counts like a Bearer session (session_cookie.h).
    if (auth != req.end() || session_cookie(req)) {
        const std::string_view value =
            auth != req.end() ? std::string_view(auth->value()) : std::string_view{};
        const auto scheme = value.substr(0, value.find(' '));
        if (boost::beast::iequals(scheme, "L402") || boost::beast::iequals(scheme, "LSAT")) {
            auto grant = wallet->paywall.check_credential(value, file.file_id);
            if (grant) co_return true;
            // An expired grant gets a fresh challenge; anything else about it is refused.
            if (grant.error() != crypto::MacaroonError::expired) {
                co_await send_problem(ex, Problem::invalid_credential,
                                      "the L402 credential is not valid for this file (" +
                                          std::string(crypto::macaroon_error_name(grant.error())) + ")");
                co_return false;
            }
        } else {
            Caller caller = co_await optional_caller(ex);
            if (caller.answered) co_return false;
            if (caller.principal) {
                const accounts::AccountId me = caller.principal->account_id;
                auto owner = m_accounts->accounts.owns_file(*caller.principal, file.file_id);
                if (!owner) {
                    co_await send_problem(ex, Problem::internal, "storage failure");
                    co_return false;
                }
                if (*owner) co_return true;  // owners download their own files free
                auto live = wallet->paywall.has_live_grant(me, file.file_id);
                if (!live) {
                    co_await send_problem(ex, Problem::internal, "storage failure");
                    co_return false;
                }
                if (*live) co_return true;
            }
        }
    }
    std::string referral;
    if (auto url = boost::urls::parse_origin_form(req.target())) {
        const auto params = url->params();
        if (const auto it = params.find("r"); it != params.end() && (*it).has_value) referral = (*it).value;
    }
    const payments::Challenge c = wallet->paywall.challenge(file.file_id, file.price_msat, referral);
    const ProblemInfo& info = problem_info(Problem::payment_required);
    json::object body;
    body["type"] = "https://satload.dev/problems/" + std::string(info.slug);
    body["title"] = info.title;
    body["status"] = info.status;
    body["detail"] = "this file costs " + format_msat(Msat{c.price_msat}) + ": pay it at pay_url";
    body["price_msat"] = c.price_msat;
    body["pay_url"] = base_url(ex) + "/api/v1/pay";
    body["invoice"] = c.invoice;
    if (!ex.body_done()) ex.close_after_response();
    StringResponse res{http::status::payment_required, req.version()};
    res.set(http::field::content_type, "application/problem+json");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::www_authenticate, c.www_authenticate);
    res.set("Access-Control-Expose-Headers", "WWW-Authenticate");
    res.keep_alive(ex.keep_alive());
    res.body() = json::serialize(body);
    res.prepare_payload();
    co_await ex.send(std::move(res));
    co_return false;
}

}  // namespace satload::server
