// The client's half of the 402 flow: challenge parsing (header and body), the pay request, and
// the per-download credential decisions.
#include "client/paywall.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>
#include <vector>

#include "client/api.h"
#include "client/wallet.h"
#include "core/money.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kBearerPrefix = "Bearer ";
constexpr std::string_view kL402Prefix = "L402 ";

bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~+/").find(c) != std::string_view::npos;
}

// Visible ASCII without the characters that would need quoting or escaping.
bool is_invoice(std::string_view text) {
    return !text.empty() && text.size() <= kMaxInvoiceChars &&
           std::all_of(text.begin(), text.end(),
                       [](char c) { return c > ' ' && c < 0x7f && c != '"' && c != '\\'; });
}

struct ParsedChallenge {
    std::string scheme;
    std::vector<std::pair<std::string, std::string>> params;  // names lower-cased
};

// RFC 9110 section 11.6.1: challenges separated by commas, each a scheme followed by either
// a token68 or comma-separated `name = value` parameters (value a token or quoted-string).
std::optional<std::vector<ParsedChallenge>> parse_challenges(std::string_view s) {
    std::vector<ParsedChallenge> out;
    std::size_t i = 0;
    const std::size_t n = s.size();
    const auto skip_ws = [&] {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) ++i;
    };
    const auto read_token = [&] {
        const std::size_t start = i;
        while (i < n && is_tchar(s[i])) ++i;
        return s.substr(start, i - start);
    };
    while (true) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
        if (i == n) break;
        const std::string_view token = read_token();
        if (token.empty()) return std::nullopt;
        skip_ws();
        if (i < n && s[i] == '=') {
            // A parameter of the current challenge.
            if (out.empty()) return std::nullopt;
            ++i;
            skip_ws();
            std::string value;
            if (i < n && s[i] == '"') {
                ++i;
                bool closed = false;
                while (i < n) {
                    char c = s[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i == n) return std::nullopt;
                        c = s[i++];
                    }
                    value.push_back(c);
                }
                if (!closed) return std::nullopt;
            } else {
                value = std::string(read_token());
                if (value.empty()) return std::nullopt;
            }
            skip_ws();
            if (i < n && s[i] != ',') return std::nullopt;
            std::string name(token);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.back().params.emplace_back(std::move(name), std::move(value));
            continue;
        }
        // A new challenge; a token68 may follow it directly.
        out.push_back(ParsedChallenge{std::string(token), {}});
        const std::size_t mark = i;
        while (i < n && is_token68_char(s[i])) ++i;
        const bool had_chars = i > mark;
        while (i < n && s[i] == '=') ++i;
        skip_ws();
        if (!had_chars || (i < n && s[i] != ',')) i = mark;  // parameters follow instead
    }
    return out;
}

// The name to put in "satload account login NAME" (a SATLOAD_TOKEN credential has none).
std::string login_name(const Session& session) {
    return session.username.empty() ? std::string("USER") : session.username;
}

std::int64_t system_clock_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<L402Challenge> parse_l402_challenge(std::string_view value) {
    if (value.size() > kMaxChallengeHeaderChars) return std::nullopt;
    const auto challenges = parse_challenges(value);
    if (!challenges) return std::nullopt;
    for (const auto& c : *challenges) {
        if (!boost::beast::iequals(c.scheme, "L402") && !boost::beast::iequals(c.scheme, "LSAT"))
            continue;
        std::optional<std::string> macaroon;
        std::optional<std::string> invoice;
        for (const auto& [name, v] : c.params) {
            std::optional<std::string>* slot = name == "macaroon"  ? &macaroon
                                               : name == "invoice" ? &invoice
                                                                   : nullptr;
            if (slot == nullptr) continue;
            if (*slot) return std::nullopt;  // a parameter given twice: ambiguous, refuse
            *slot = v;
        }
        if (!macaroon || !invoice || !is_grant_macaroon(*macaroon) || !is_invoice(*invoice))
            return std::nullopt;
        return L402Challenge{std::move(*macaroon), std::move(*invoice)};
    }
    return std::nullopt;
}

ClientResult<PaymentChallenge> parse_payment_challenge(const HttpResponse& response) {
    if (response.status != 402) {
        return client_error(ErrorCode::protocol, "not a payment challenge (HTTP " +
                                                     std::to_string(response.status) + ")");
    }
    const auto header = parse_l402_challenge(response.header("WWW-Authenticate"));
    auto body = parse_json_object(response.body, "the download");
    if (!body)
        return client_error(ErrorCode::protocol,
                            "the server asks for payment without saying the price");
    const auto price = json_int(*body, "price_msat");
    if (!price || *price <= 0 || !within_supply(Msat{*price})) {
        return client_error(ErrorCode::protocol,
                            "the server asks for payment without a valid price");
    }
    const auto body_invoice = json_text(*body, "invoice");
    if (body_invoice && !is_invoice(*body_invoice)) {
        return client_error(ErrorCode::protocol, "the server's invoice is malformed");
    }
    if (header && body_invoice && header->invoice != *body_invoice) {
        return client_error(ErrorCode::protocol,
                            "the payment challenge names two different invoices");
    }
    PaymentChallenge c;
    c.price_msat = *price;
    if (header) {
        c.invoice = header->invoice;
        c.macaroon = header->macaroon;
    } else if (body_invoice) {
        c.invoice = *body_invoice;
    } else {
        return client_error(ErrorCode::protocol, "the server asks for payment but sent no invoice");
    }
    c.detail = printable(json_text(*body, "detail").value_or(""), kMaxProblemTextChars);
    return c;
}

ClientResult<Payment> parse_pay_answer(std::string_view text) {
    auto o = parse_json_object(text, "the payment");
    if (!o) return tl::unexpected(o.error());
    const auto bad = [] {
        return client_error(ErrorCode::protocol, "the server's payment answer is malformed");
    };
    auto preimage = json_text(*o, "preimage");
    auto macaroon = json_text(*o, "macaroon");
    const json::value* receipt = o->if_contains("receipt");
    wipe_json_strings(*o);
    const auto cleanup = [&] {
        if (preimage) crypto::secure_wipe(*preimage);
        if (macaroon) crypto::secure_wipe(*macaroon);
    };
    if (!preimage || !macaroon || !is_preimage_hex(*preimage) || !is_grant_macaroon(*macaroon) ||
        receipt == nullptr || !receipt->is_object()) {
        cleanup();
        return bad();
    }
    const auto& r = receipt->as_object();
    Payment p;
    const auto payment_id = json_text(r, "payment_id");
    const auto file_id = json_text(r, "file_id");
    const auto price = json_int(r, "price_msat");
    const auto uploader = json_int(r, "uploader_msat");
    const auto referrer = json_int(r, "referrer_msat");
    const auto platform = json_int(r, "platform_msat");
    const auto charged = json_flag(r, "charged");
    const auto expires = json_int(r, "expires");
    if (!payment_id || !file_id || !price || !uploader || !referrer || !platform || !charged ||
        !expires || *expires <= 0) {
        cleanup();
        return bad();
    }
    p.receipt = PaymentReceipt{printable(*payment_id, 64),
                               printable(*file_id, 64),
                               *price,
                               *uploader,
                               *referrer,
                               *platform,
                               *charged,
                               *expires};
    p.grant.macaroon = std::move(*macaroon);
    p.grant.preimage = std::move(*preimage);
    p.grant.expires_s = *expires;
    cleanup();
    return p;
}

Result<Payment, PayError> pay_invoice(const Session& session, std::string_view invoice,
                                      std::int64_t max_msat, const HttpOptions& options) {
    const auto failure = [](PayRefusal refusal, Error error) {
        return tl::unexpected(PayError{refusal, std::move(error)});
    };
    HttpClient client(options);
    const std::string body =
        json::serialize(json::object{{"invoice", invoice}, {"max_msat", max_msat}});
    auto res = session_request(client, session, http::verb::post, "/api/v1/pay", body);
    if (!res) return failure(PayRefusal::other, res.error());
    if (res->status == 200) {
        auto paid = parse_pay_answer(res->body);
        crypto::secure_wipe(res->body);
        if (!paid) return failure(PayRefusal::other, paid.error());
        paid->grant.server = session.server.text();
        return std::move(*paid);
    }
    const std::string detail = problem_detail(*res);
    const std::string slug = problem_slug(*res);
    switch (res->status) {
        case 402:
            return failure(
                PayRefusal::insufficient_funds,
                Error{ErrorCode::payment_required, "payment refused, nothing was paid: " + detail});
        case 409:
            return failure(
                slug == "price-above-maximum" ? PayRefusal::price_above_maximum
                                              : PayRefusal::conflict,
                Error{ErrorCode::http_status, "payment refused, nothing was paid: " + detail});
        case 404:
        case 410:
            return failure(PayRefusal::gone,
                           Error{ErrorCode::not_found, "payment refused: " + detail});
        case 401:
            return failure(
                PayRefusal::unauthorized,
                Error{ErrorCode::http_status, "the session was refused (" + detail +
                                                  "): log in to pay: satload account login " +
                                                  login_name(session)});
        default:
            return failure(PayRefusal::other, status_error("the payment", *res));
    }
}

DownloadAuthorizer::DownloadAuthorizer(std::string file_id, PaidAccess access)
    : m_file_id(std::move(file_id)), m_access(std::move(access)) {
    if (!m_access.clock_s) m_access.clock_s = system_clock_s;
}

void DownloadAuthorizer::notice(std::string_view text) const {
    if (m_access.notice) m_access.notice(text);
}

std::string DownloadAuthorizer::bearer() const {
    if (!m_access.session || m_session_refused) return {};
    return std::string(kBearerPrefix) + m_access.session->token;
}

std::string DownloadAuthorizer::initial() {
    auto stored = load_grant(m_access.home, m_file_id);
    if (!stored) {
        notice("ignoring the stored payment for this file: " + stored.error().message);
    } else if (*stored) {
        const StoredGrant& g = **stored;
        const bool same_server = g.server.empty() || g.server == m_access.server;
        if (same_server && g.live_at(m_access.clock_s())) return l402_authorization(g);
        if (same_server) (void)remove_grant(m_access.home, m_file_id);  // expired: useless
    }
    return bearer();
}

ClientResult<std::string> DownloadAuthorizer::refused(const HttpResponse& response,
                                                      std::string_view sent) {
    const bool sent_l402 = sent.substr(0, kL402Prefix.size()) == kL402Prefix;
    const bool sent_bearer = sent.substr(0, kBearerPrefix.size()) == kBearerPrefix;
    if (response.status == 401) {
        if (sent_l402) {
            (void)remove_grant(m_access.home, m_file_id);
            notice("the server refused the stored payment for this file (" +
                   problem_detail(response) + "); it was removed");
            return bearer();
        }
        if (sent_bearer) {
            m_session_refused = true;
            notice("the server refused the session (log in again); trying without it");
            return std::string();
        }
        return tl::unexpected(status_error("downloading", response));
    }
    if (response.status != 402) return tl::unexpected(status_error("downloading", response));
    if (sent_l402) {
        (void)remove_grant(m_access.home, m_file_id);
        notice("the stored payment for this file has expired");
    }
    return pay_for(response);
}

ClientResult<std::string> DownloadAuthorizer::pay_for(const HttpResponse& response) {
    auto challenge = parse_payment_challenge(response);
    if (!challenge) return tl::unexpected(challenge.error());
    const std::string price = amount_text(challenge->price_msat);
    if (m_payments >= kMaxPaymentsPerDownload) {
        return client_error(
            ErrorCode::payment_required,
            "the server asks for payment again right after a payment; nothing more was paid");
    }
    notice("this file costs " + price);
    if (!m_access.session) {
        return client_error(ErrorCode::payment_required,
                            "not paid: log in to pay: satload account login USER");
    }
    if (m_session_refused) {
        return client_error(
            ErrorCode::payment_required,
            "not paid: the session was refused; log in to pay: satload account login " +
                login_name(*m_access.session));
    }
    if (!m_access.consent) {
        return client_error(ErrorCode::payment_required,
                            "not paid: " + price + " needs your consent (--max-price)");
    }
    auto max = m_access.consent(*challenge);
    if (!max) return tl::unexpected(max.error());
    ++m_payments;
    auto paid = m_access.pay
                    ? m_access.pay(challenge->invoice, *max)
                    : pay_invoice(*m_access.session, challenge->invoice, *max, m_access.http);
    if (!paid) return tl::unexpected(paid.error().error);
    const PaymentReceipt& r = paid->receipt;
    if (r.charged) {
        notice("paid " + amount_text(r.price_msat) + ": uploader " + amount_text(r.uploader_msat) +
               ", referrer " + amount_text(r.referrer_msat) + ", platform " +
               amount_text(r.platform_msat));
    } else {
        notice("already paid: using the live grant, nothing charged");
    }
    if (paid->grant.server.empty()) paid->grant.server = m_access.server;
    if (auto saved = save_grant(m_access.home, m_file_id, paid->grant); !saved) {
        notice("the payment could not be kept for later downloads: " + saved.error().message);
    }
    m_receipt = r;
    return l402_authorization(paid->grant);
}

}  // namespace satload::client
