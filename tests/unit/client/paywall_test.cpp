// The client's side of HTTP 402: parsing the L402 challenge header and the problem body, the pay
// answer, and the DownloadAuthorizer's decisions (which credential first, when to pay, what a
// 401 or a repeated 402 does), with the payment injected so nothing here needs a server.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/paywall.h"
#include "core/money.h"
#include "crypto/macaroon.h"
#include "test_util.h"

namespace satload::client {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace paywall_test {

using testing::TempDir;

constexpr std::string_view kFileId = "eRWGyhTojxf_sJpy3QQrGQ";
constexpr std::string_view kServer = "http://127.0.0.1:8080";
constexpr std::string_view kInvoice = "sl1.AAECAwQFBgcICQ-_abc";
const std::string kPreimage = std::string(32, 'b') + std::string(32, '7');

// A macaroon as the server mints one, in its header text form.
std::string real_macaroon() {
    const Bytes key(32, 0x42);
    const Bytes id(crypto::kL402IdentifierBytes, 0x01);
    crypto::Macaroon m = crypto::mint_macaroon(key, id, kServer);
    crypto::add_grant_caveats(m, crypto::GrantCaveats{std::string(kFileId), 7, 1'900'000'000});
    return crypto::encode_macaroon_base64(m);
}

// A 402 answer shaped like the server's (header from crypto::format_l402_challenge).
HttpResponse challenge_response(std::int64_t price_msat, std::string_view header_invoice = kInvoice,
                                std::string_view body_invoice = kInvoice) {
    HttpResponse r;
    r.status = 402;
    r.headers.set("Content-Type", "application/problem+json");
    const auto m = crypto::decode_macaroon_base64(real_macaroon());
    EXPECT_TRUE(m);
    if (!header_invoice.empty())
        r.headers.set("WWW-Authenticate", crypto::format_l402_challenge(*m, header_invoice));
    boost::json::object body{
        {"type", "https://satload.dev/problems/payment-required"},
        {"title", "Payment required"},
        {"status", 402},
        {"detail", "this file costs " + std::to_string(price_msat) + "msat: pay it at pay_url"},
        {"price_msat", price_msat},
        {"pay_url", std::string(kServer) + "/api/v1/pay"}};
    if (!body_invoice.empty()) body["invoice"] = body_invoice;
    r.body = boost::json::serialize(body);
    return r;
}

HttpResponse status_only(unsigned status) {
    HttpResponse r;
    r.status = status;
    r.headers.set("Content-Type", "application/problem+json");
    r.body =
        R"j({"title":"x","detail":"the L402 credential is not valid for this file (signature_mismatch)"})j";
    return r;
}

// The server's own header form parses back to its macaroon and invoice.
TEST(L402Challenge, ParsesTheServersHeader) {
    const auto m = crypto::decode_macaroon_base64(real_macaroon());
    ASSERT_TRUE(m);
    const std::string header = crypto::format_l402_challenge(*m, kInvoice);
    auto c = parse_l402_challenge(header);
    ASSERT_TRUE(c) << header;
    EXPECT_EQ(c->macaroon, real_macaroon());
    EXPECT_EQ(c->invoice, kInvoice);
}

// RFC 9110 forms: the scheme in any case and its old name LSAT, parameter names in any case,
// token values, extra spaces, and the L402 challenge among others (one with a token68, one
// with a quoted string holding a comma and an escaped quote).
TEST(L402Challenge, FindsL402AmongOtherChallenges) {
    const std::vector<std::string> headers = {
        "l402 macaroon=\"AgJC+/==\", invoice=\"inv1\"",
        "LSAT macaroon=\"AgJC+/==\",invoice=\"inv1\"",
        "L402   MACAROON = \"AgJC+/==\" ,  Invoice=inv1",
        "Basic dXNlcjpwYXNz==, L402 macaroon=\"AgJC+/==\", invoice=\"inv1\"",
        "Bearer realm=\"a, \\\"b\\\"\", error=invalid_token, L402 invoice=\"inv1\", "
        "macaroon=\"AgJC+/==\"",
        "L402 macaroon=\"AgJC+/==\", invoice=\"inv1\", Bearer realm=\"x\"",
        "L402 macaroon=\"AgJC+/==\", invoice=\"inv1\", version=\"0\"",
    };
    for (const auto& h : headers) {
        auto c = parse_l402_challenge(h);
        ASSERT_TRUE(c) << h;
        EXPECT_EQ(c->macaroon, "AgJC+/==") << h;
        EXPECT_EQ(c->invoice, "inv1") << h;
    }
}

// Without both parameters, with one twice, with broken syntax, or with values that could not
// be sent back safely, there is no challenge.
TEST(L402Challenge, RefusesIncompleteOrMalformedHeaders) {
    const std::vector<std::string> headers = {
        "",
        "Bearer realm=\"x\"",
        "L402 macaroon=\"AgJC\"",
        "L402 invoice=\"inv1\"",
        "L402 macaroon=\"AgJC\", macaroon=\"AgJD\", invoice=\"inv1\"",
        "L402 macaroon=\"AgJC\", invoice=\"inv1",
        "L402 macaroon=\"AgJC\" invoice=\"inv1\"",
        "=L402 macaroon=\"AgJC\", invoice=\"inv1\"",
        "macaroon=\"AgJC\", invoice=\"inv1\"",
        "L402 macaroon=\"Ag JC\", invoice=\"inv1\"",
        "L402 macaroon=\"AgJC\", invoice=\"in\\\"v1\"",
        "L402 macaroon=\"AgJC\", invoice=\"\"",
        "Foo macaroon=\"AgJC\", invoice=\"inv1\"",
    };
    for (const auto& h : headers) EXPECT_FALSE(parse_l402_challenge(h)) << h;
    const std::string huge =
        "L402 macaroon=\"" + std::string(kMaxChallengeHeaderChars, 'A') + "\", invoice=\"i\"";
    EXPECT_FALSE(parse_l402_challenge(huge));
}

// The price comes from the problem body, the invoice from the header (and the body, which
// must agree), the macaroon from the header.
TEST(PaymentChallenge, ReadsPriceInvoiceAndMacaroon) {
    auto c = parse_payment_challenge(challenge_response(1'000'000));
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->price_msat, 1'000'000);
    EXPECT_EQ(c->invoice, kInvoice);
    EXPECT_EQ(c->macaroon, real_macaroon());
    EXPECT_EQ(c->detail, "this file costs 1000000msat: pay it at pay_url");
    // A body-only invoice is enough (a proxy may drop the header).
    auto body_only = parse_payment_challenge(challenge_response(7, "", kInvoice));
    ASSERT_TRUE(body_only);
    EXPECT_EQ(body_only->invoice, kInvoice);
    EXPECT_EQ(body_only->macaroon, "");
    // And a header-only invoice.
    auto header_only = parse_payment_challenge(challenge_response(7, kInvoice, ""));
    ASSERT_TRUE(header_only);
    EXPECT_EQ(header_only->invoice, kInvoice);
}

// What cannot be paid safely is a protocol error: invoices that disagree, no invoice, no
// price, a price of zero or above the supply, a body that is not JSON, another status.
TEST(PaymentChallenge, RefusesWhatCannotBePaidSafely) {
    EXPECT_EQ(parse_payment_challenge(challenge_response(5, "inv-a", "inv-b")).error().code,
              ErrorCode::protocol);
    EXPECT_EQ(parse_payment_challenge(challenge_response(5, "", "")).error().code,
              ErrorCode::protocol);
    EXPECT_EQ(parse_payment_challenge(challenge_response(0)).error().code, ErrorCode::protocol);
    EXPECT_EQ(parse_payment_challenge(challenge_response(-5)).error().code, ErrorCode::protocol);
    EXPECT_EQ(parse_payment_challenge(challenge_response(kSupplyMsat + 1)).error().code,
              ErrorCode::protocol);
    HttpResponse no_price = challenge_response(5);
    no_price.body = R"({"invoice":"sl1.AAECAwQFBgcICQ-_abc"})";
    EXPECT_FALSE(parse_payment_challenge(no_price));
    HttpResponse text = challenge_response(5);
    text.body = "pay me";
    EXPECT_FALSE(parse_payment_challenge(text));
    HttpResponse ok = challenge_response(5);
    ok.status = 401;
    EXPECT_FALSE(parse_payment_challenge(ok));
}

std::string pay_answer(bool charged = true) {
    return boost::json::serialize(boost::json::object{
        {"preimage", kPreimage},
        {"macaroon", real_macaroon()},
        {"receipt", boost::json::object{{"payment_id", "0123456789abcdef0123456789abcdef"},
                                        {"file_id", kFileId},
                                        {"price_msat", 1'000'001},
                                        {"uploader_msat", 800'001},
                                        {"referrer_msat", 100'000},
                                        {"platform_msat", 100'000},
                                        {"charged", charged},
                                        {"expires", 1'900'000'000}}}});
}

// The pay answer gives the grant (macaroon, preimage, expiry) and the split.
TEST(PayAnswer, GivesGrantAndSplit) {
    auto p = parse_pay_answer(pay_answer());
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->grant.macaroon, real_macaroon());
    EXPECT_EQ(p->grant.preimage, kPreimage);
    EXPECT_EQ(p->grant.expires_s, 1'900'000'000);
    EXPECT_EQ(p->receipt.price_msat, 1'000'001);
    EXPECT_EQ(p->receipt.uploader_msat, 800'001);
    EXPECT_EQ(p->receipt.referrer_msat, 100'000);
    EXPECT_EQ(p->receipt.platform_msat, 100'000);
    EXPECT_TRUE(p->receipt.charged);
    EXPECT_EQ(p->receipt.file_id, kFileId);
}

// A pay answer missing a piece, or with a preimage that is not 64 lowercase hex digits, is
// refused (it could not unlock anything).
TEST(PayAnswer, RefusesMalformedAnswers) {
    auto o = boost::json::parse(pay_answer()).as_object();
    for (const char* key : {"preimage", "macaroon", "receipt"}) {
        auto copy = o;
        copy.erase(key);
        EXPECT_FALSE(parse_pay_answer(boost::json::serialize(copy))) << key;
    }
    for (const char* key : {"price_msat", "uploader_msat", "charged", "expires"}) {
        auto copy = o;
        copy["receipt"].as_object().erase(key);
        EXPECT_FALSE(parse_pay_answer(boost::json::serialize(copy))) << key;
    }
    auto upper = o;
    upper["preimage"] = std::string(64, 'B');
    EXPECT_FALSE(parse_pay_answer(boost::json::serialize(upper)));
    EXPECT_FALSE(parse_pay_answer("not json"));
}

Session test_session() {
    Session s;
    s.server = *parse_server_url(kServer);
    s.username = "payer";
    s.token = "tok123";
    return s;
}

struct Harness {
    TempDir home;
    std::vector<std::string> notices;
    std::vector<std::pair<std::string, std::int64_t>> payments;
    int consents = 0;
    std::optional<Error> consent_error;
    std::optional<PayError> pay_error;
    bool charged = true;
    std::int64_t now_s = 1'800'000'000;

    PaidAccess access(bool with_session) {
        PaidAccess a;
        a.home = home.path();
        a.server = std::string(kServer);
        if (with_session) a.session = test_session();
        a.notice = [this](std::string_view t) { notices.emplace_back(t); };
        a.clock_s = [this] { return now_s; };
        a.consent = [this](const PaymentChallenge& c) -> ClientResult<std::int64_t> {
            ++consents;
            if (consent_error) return tl::unexpected(*consent_error);
            return c.price_msat;
        };
        a.pay = [this](std::string_view invoice,
                       std::int64_t max_msat) -> Result<Payment, PayError> {
            payments.emplace_back(std::string(invoice), max_msat);
            if (pay_error) return tl::unexpected(*pay_error);
            auto p = parse_pay_answer(pay_answer(charged));
            EXPECT_TRUE(p);
            return std::move(*p);
        };
        return a;
    }
    bool has_grant() {
        auto g = load_grant(home.path(), kFileId);
        return g && g->has_value();
    }
};

StoredGrant grant_expiring(std::int64_t expires_s, std::string server = std::string(kServer)) {
    StoredGrant g;
    g.macaroon = "AgJC";
    g.preimage = kPreimage;
    g.expires_s = expires_s;
    g.server = std::move(server);
    return g;
}

// First credential: a live stored grant, else the session, else nothing; an expired grant is
// removed, and a grant for another server is neither sent nor removed.
TEST(DownloadAuthorizer, InitialCredential) {
    Harness h;
    EXPECT_EQ(DownloadAuthorizer(std::string(kFileId), h.access(false)).initial(), "");
    EXPECT_EQ(DownloadAuthorizer(std::string(kFileId), h.access(true)).initial(), "Bearer tok123");

    ASSERT_TRUE(save_grant(h.home.path(), kFileId, grant_expiring(h.now_s + 10)));
    EXPECT_EQ(DownloadAuthorizer(std::string(kFileId), h.access(true)).initial(),
              "L402 AgJC:" + kPreimage);

    ASSERT_TRUE(save_grant(h.home.path(), kFileId, grant_expiring(h.now_s)));
    EXPECT_EQ(DownloadAuthorizer(std::string(kFileId), h.access(true)).initial(), "Bearer tok123");
    EXPECT_FALSE(h.has_grant());

    ASSERT_TRUE(
        save_grant(h.home.path(), kFileId, grant_expiring(h.now_s + 10, "http://other.example")));
    EXPECT_EQ(DownloadAuthorizer(std::string(kFileId), h.access(false)).initial(), "");
    EXPECT_TRUE(h.has_grant());
}

// With consent, a 402 is paid once with the challenge's invoice and the consented maximum; the
// grant is stored and becomes the next Authorization; the price and the split are shown.
TEST(DownloadAuthorizer, PaysWithConsentAndKeepsTheGrant) {
    Harness h;
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    auto next = a.refused(challenge_response(1'000'001), "Bearer tok123");
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(*next, "L402 " + real_macaroon() + ":" + kPreimage);
    ASSERT_EQ(h.payments.size(), 1u);
    EXPECT_EQ(h.payments[0].first, kInvoice);
    EXPECT_EQ(h.payments[0].second, 1'000'001);
    ASSERT_TRUE(h.has_grant());
    auto stored = load_grant(h.home.path(), kFileId);
    EXPECT_EQ((*stored)->preimage, kPreimage);
    EXPECT_EQ((*stored)->expires_s, 1'900'000'000);
    EXPECT_EQ((*stored)->server, kServer);
    ASSERT_TRUE(a.receipt());
    EXPECT_EQ(a.receipt()->uploader_msat, 800'001);
    ASSERT_GE(h.notices.size(), 2u);
    EXPECT_EQ(h.notices[0], "this file costs 1000001 msat (1000.001 sat)");
    EXPECT_EQ(
        h.notices[1],
        "paid 1000001 msat (1000.001 sat): uploader 800001 msat (800.001 sat), referrer 100000 "
        "msat (100 sat), platform 100000 msat (100 sat)");
    // A second 402 in the same download is not paid again.
    auto again = a.refused(challenge_response(1'000'001), *next);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::payment_required);
    EXPECT_EQ(h.payments.size(), 1u);
}

// No session: nothing is paid and the message says how to log in; no consent is asked.
TEST(DownloadAuthorizer, NeedsALoginToPay) {
    Harness h;
    DownloadAuthorizer a(std::string(kFileId), h.access(false));
    auto r = a.refused(challenge_response(5000), "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("log in to pay: satload account login"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(h.consents, 0);
    EXPECT_TRUE(h.payments.empty());
    EXPECT_FALSE(h.has_grant());
}

// Without consent nothing is paid and consent's reason is the error.
TEST(DownloadAuthorizer, NoConsentNoPayment) {
    Harness h;
    h.consent_error = Error{ErrorCode::payment_required, "not paid: above --max-price"};
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    auto r = a.refused(challenge_response(5000), "Bearer tok123");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not paid: above --max-price");
    EXPECT_EQ(h.consents, 1);
    EXPECT_TRUE(h.payments.empty());
    EXPECT_FALSE(h.has_grant());
}

// A refused payment (insufficient funds) ends the download with the server's words and
// stores nothing.
TEST(DownloadAuthorizer, RefusedPaymentStoresNothing) {
    Harness h;
    h.pay_error = PayError{PayRefusal::insufficient_funds,
                           Error{ErrorCode::payment_required,
                                 "payment refused, nothing was paid: the wallet holds 0msat"}};
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    auto r = a.refused(challenge_response(5000), "Bearer tok123");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "payment refused, nothing was paid: the wallet holds 0msat");
    EXPECT_FALSE(h.has_grant());
    EXPECT_FALSE(a.receipt());
}

// A 402 to a stored grant means it expired on the server's clock: the grant is dropped and
// the file is paid again (with consent).
TEST(DownloadAuthorizer, ExpiredGrantIsPaidAgain) {
    Harness h;
    ASSERT_TRUE(save_grant(h.home.path(), kFileId, grant_expiring(h.now_s + 100)));
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    const std::string first = a.initial();
    ASSERT_EQ(first.rfind("L402 ", 0), 0u);
    auto next = a.refused(challenge_response(42), first);
    ASSERT_TRUE(next);
    EXPECT_EQ(h.consents, 1);
    EXPECT_EQ(h.payments.size(), 1u);
    auto stored = load_grant(h.home.path(), kFileId);
    EXPECT_EQ((*stored)->expires_s, 1'900'000'000);  // the new grant replaced the old one
}

// A 401 to a stored grant drops it and falls back to the session; a 401 to the session falls
// back to no credential, and a 402 after that cannot be paid (the session is gone).
TEST(DownloadAuthorizer, RefusedCredentialsFallBack) {
    Harness h;
    ASSERT_TRUE(save_grant(h.home.path(), kFileId, grant_expiring(h.now_s + 100)));
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    const std::string first = a.initial();
    auto second = a.refused(status_only(401), first);
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, "Bearer tok123");
    EXPECT_FALSE(h.has_grant());
    auto third = a.refused(status_only(401), *second);
    ASSERT_TRUE(third);
    EXPECT_EQ(*third, "");
    auto fourth = a.refused(challenge_response(10), *third);
    ASSERT_FALSE(fourth);
    EXPECT_NE(fourth.error().message.find("log in to pay"), std::string::npos);
    EXPECT_TRUE(h.payments.empty());
    // A 401 to no credential at all is the server's refusal, not something to retry.
    EXPECT_FALSE(a.refused(status_only(401), ""));
}

// "Already paid" (a live grant returned without charging) is said so, and still stored.
TEST(DownloadAuthorizer, LiveGrantReturnedWithoutCharge) {
    Harness h;
    h.charged = false;
    DownloadAuthorizer a(std::string(kFileId), h.access(true));
    auto next = a.refused(challenge_response(5), "Bearer tok123");
    ASSERT_TRUE(next);
    EXPECT_TRUE(h.has_grant());
    EXPECT_EQ(h.notices.back(), "already paid: using the live grant, nothing charged");
}

}  // namespace paywall_test
}  // namespace
}  // namespace satload::client
