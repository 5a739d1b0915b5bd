// Paid downloads from the client side (DESIGN.md "paywall"): the 402 challenge (its problem
// body and `WWW-Authenticate: L402 macaroon="…", invoice="…"`), paying it with POST
// /api/v1/pay, and the DownloadAuthorizer that picks the credential for each download and
// answers a 402 (pay, only with consent) or a 401 (drop a refused credential).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/account.h"
#include "client/error.h"
#include "client/grants.h"
#include "client/http.h"

namespace satload::client {

// Longest WWW-Authenticate value we parse.
inline constexpr std::size_t kMaxChallengeHeaderChars = 16 * 1024;
// Longest invoice we send back (satload's are about 100 characters).
inline constexpr std::size_t kMaxInvoiceChars = 4096;
// Payments one download may make: a second 402 right after paying is the server's problem,
// not a reason to pay again.
inline constexpr unsigned kMaxPaymentsPerDownload = 1;

// The parameters of the L402 (or LSAT) challenge among those of a WWW-Authenticate value.
struct L402Challenge {
    std::string macaroon;
    std::string invoice;
};
// nullopt when the header holds no L402/LSAT challenge with both a macaroon and an invoice, or
// is malformed. Parses RFC 9110 challenges: several per header, quoted strings with escapes,
// token68 credentials of other schemes, parameter names in any case.
[[nodiscard]] std::optional<L402Challenge> parse_l402_challenge(std::string_view www_authenticate);

// What a 402 asks for.
struct PaymentChallenge {
    std::int64_t price_msat = 0;
    std::string invoice;   // what POST /api/v1/pay takes
    std::string macaroon;  // from WWW-Authenticate ("" when the header lacks it)
    std::string detail;    // the server's text, printable
};
// From a 402 answer: price_msat from the problem body (required, > 0); the invoice from the
// L402 challenge and the body, which must agree when both are present.
[[nodiscard]] ClientResult<PaymentChallenge> parse_payment_challenge(const HttpResponse& response);

// The split of one payment, as the server reports it.
struct PaymentReceipt {
    std::string payment_id;
    std::string file_id;
    std::int64_t price_msat = 0;
    std::int64_t uploader_msat = 0;
    std::int64_t referrer_msat = 0;
    std::int64_t platform_msat = 0;
    bool charged = false;  // false: a live grant was returned without charging
    std::int64_t expires_s = 0;
};
struct Payment {
    StoredGrant grant;  // server set by pay_invoice
    PaymentReceipt receipt;
};
// The body of a 200 answer to POST /api/v1/pay.
[[nodiscard]] ClientResult<Payment> parse_pay_answer(std::string_view body);

// Why a payment did not happen, beside transport failures.
enum class PayRefusal {
    none,
    insufficient_funds,   // 402: the wallet cannot cover the price
    price_above_maximum,  // 409
    conflict,             // 409: the price changed, the file is the payer's own, ...
    gone,                 // 410/404: the file cannot be downloaded any more
    unauthorized,         // 401: the session was refused
    other,
};
struct PayError {
    PayRefusal refusal = PayRefusal::none;
    Error error;  // the message names the server's detail
};
// Pays `invoice` from the session's wallet, never more than max_msat.
[[nodiscard]] Result<Payment, PayError> pay_invoice(const Session& session,
                                                    std::string_view invoice, std::int64_t max_msat,
                                                    const HttpOptions& http);

// Everything a DownloadAuthorizer needs, injected so it can be tested without a server.
struct PaidAccess {
    std::filesystem::path home;      // grants live in <home>/grants
    std::string server;              // the link's server base URL
    std::optional<Session> session;  // logged in at the link's server; needed to pay
    // Asked once per challenge after the price was shown: the most to pay (at least the price),
    // or an error (no consent, above --max-price, ...) that ends the download unpaid.
    std::function<ClientResult<std::int64_t>(const PaymentChallenge&)> consent;
    // Pays; defaults to pay_invoice with `session` and `http`.
    std::function<Result<Payment, PayError>(std::string_view invoice, std::int64_t max_msat)> pay;
    std::function<void(std::string_view)> notice;  // stderr lines
    std::function<std::int64_t()> clock_s;         // defaults to the system clock
    HttpOptions http;
};

class DownloadAuthorizer {
public:
    DownloadAuthorizer(std::string file_id, PaidAccess access);

    // The Authorization for the first request: a live stored grant ("L402 …"), else the
    // session ("Bearer …", which serves owners and payers with a live grant), else "".
    [[nodiscard]] std::string initial();
    // The server refused the ciphertext with `response` (402 or 401) to `sent`; returns the
    // Authorization to try next, or why the download cannot go on.
    [[nodiscard]] ClientResult<std::string> refused(const HttpResponse& response,
                                                    std::string_view sent);

    // The payment this download made, if any.
    [[nodiscard]] const std::optional<PaymentReceipt>& receipt() const { return m_receipt; }

private:
    [[nodiscard]] std::string bearer() const;
    ClientResult<std::string> pay_for(const HttpResponse& response);
    void notice(std::string_view text) const;

    std::string m_file_id;
    PaidAccess m_access;
    bool m_session_refused = false;
    unsigned m_payments = 0;
    std::optional<PaymentReceipt> m_receipt;
};

}  // namespace satload::client
