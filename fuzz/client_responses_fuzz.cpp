// Fuzzes the client's parsers of what a (possibly hostile) server answers about payments and
// wallets (client/paywall.h, grants.h, wallet.h): the WWW-Authenticate L402 challenge, the pay
// answer, the grant file, the wallet documents. No crash; an accepted challenge carries a
// macaroon and an invoice the client would send back; the challenge the server formats, with
// an invoice drawn from the input, parses to exactly its macaroon and invoice even among other
// challenges; an accepted grant file formats to a grant file that parses to the same grant.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/grants.h"
#include "client/paywall.h"
#include "client/wallet.h"
#include "crypto/macaroon.h"

namespace client = satload::client;
namespace crypto = satload::crypto;

namespace {

bool same_grant(const client::StoredGrant& a, const client::StoredGrant& b) {
    return a.macaroon == b.macaroon && a.preimage == b.preimage && a.expires_s == b.expires_s &&
           a.server == b.server;
}

void check_challenge(std::string_view text) {
    const auto c = client::parse_l402_challenge(text);
    if (!c) return;
    if (text.size() > client::kMaxChallengeHeaderChars) std::abort();
    if (!client::is_grant_macaroon(c->macaroon)) std::abort();
    if (c->invoice.empty() || c->invoice.size() > client::kMaxInvoiceChars) std::abort();
    if (c->invoice.find_first_of("\"\\ ") != std::string::npos) std::abort();
}

void check_challenge_round_trip(std::string_view text) {
    // An invoice from the input: visible ASCII without quote or backslash, as the server's are.
    std::string invoice;
    for (const char ch : text.substr(0, client::kMaxInvoiceChars)) {
        char c = static_cast<char>(0x21 + static_cast<unsigned char>(ch) % 0x5e);
        if (c == '"' || c == '\\') c = 'x';
        invoice.push_back(c);
    }
    if (invoice.empty()) invoice = "i";
    const std::uint8_t key[1] = {0x42};
    const crypto::Macaroon m = crypto::mint_macaroon(key, satload::as_bytes("id"), "loc");
    const std::string header = crypto::format_l402_challenge(m, invoice);
    for (const std::string& value : {header, "Basic realm=\"a \\\"b\\\", c\", " + header + ", Bearer tok68=="}) {
        const auto c = client::parse_l402_challenge(value);
        if (!c || c->invoice != invoice || c->macaroon != crypto::encode_macaroon_base64(m)) std::abort();
    }
}

void check_grant(std::string_view text) {
    const auto grant = client::grant_from_json(text);
    if (!grant) return;
    if (!client::is_grant_macaroon(grant->macaroon) || !client::is_preimage_hex(grant->preimage)) std::abort();
    const auto again = client::grant_from_json(client::grant_to_json(*grant));
    if (!again || !same_grant(*again, *grant)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_challenge(text);
    check_challenge_round_trip(text);
    check_grant(text);
    if (const auto p = client::parse_pay_answer(text)) {
        if (!client::is_grant_macaroon(p->grant.macaroon) || !client::is_preimage_hex(p->grant.preimage)) std::abort();
    }
    (void)client::parse_wallet_balance(text);
    (void)client::parse_wallet_page(text);
    (void)client::parse_earnings(text);
    (void)client::parse_deposit_address(text);
    (void)client::parse_withdrawal(text);
    return 0;
}
