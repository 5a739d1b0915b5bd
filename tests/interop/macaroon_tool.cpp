// Interop helper for tests/interop/macaroon.test.mjs: mints and verifies V2 macaroons with
// satload's crypto layer, so the npm `macaroon` package can check them and we can check its.
//   macaroon_tool mint --root-key HEX --payment-hash HEX --token-id HEX --file-id ID
//                      --payer N --expires UNIX_S [--location TEXT] [--caveat TEXT]...
//       prints the macaroon as standard base64 (padded)
//   macaroon_tool verify --root-key HEX --file-id ID --now UNIX_S --macaroon BASE64
//   macaroon_tool l402 --root-key HEX --file-id ID --now UNIX_S --authorization HEADER_VALUE
//       exit 0 and print `payer=<n> expires=<s> payment_hash=<hex>` when the grant verifies
//   macaroon_tool reencode --macaroon BASE64
//       prints satload's own base64 encoding of the decoded macaroon
// A refusal prints the error's name on stderr and exits 1; a usage error exits 2.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/macaroon.h"
#include "crypto/primitives.h"

namespace {

using namespace satload;

[[noreturn]] void usage(const std::string& message) {
    std::fprintf(stderr, "macaroon_tool: %s\n", message.c_str());
    std::exit(2);
}

[[noreturn]] void refuse(crypto::MacaroonError e) {
    std::fprintf(stderr, "%s\n", std::string(crypto::macaroon_error_name(e)).c_str());
    std::exit(1);
}

struct Args {
    std::map<std::string, std::string, std::less<>> single;
    std::vector<std::string> caveats;  // --caveat may repeat

    [[nodiscard]] const std::string& get(std::string_view name) const {
        const auto it = single.find(name);
        if (it == single.end()) usage("missing " + std::string(name));
        return it->second;
    }
};

Args parse_args(int argc, char** argv, const std::vector<std::string_view>& allowed) {
    Args a;
    for (int i = 2; i < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) usage("missing value for " + std::string(flag));
        if (flag == "--caveat") {
            a.caveats.emplace_back(argv[i + 1]);
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
            usage("unknown option " + std::string(flag));
        }
        a.single[std::string(flag)] = argv[i + 1];
    }
    return a;
}

Bytes hex_arg(const Args& a, std::string_view name) {
    auto bytes = hex_decode(a.get(name));
    if (!bytes || bytes->empty()) usage(std::string(name) + " must be hex");
    return *bytes;
}

template <std::size_t N>
std::array<std::uint8_t, N> fixed_hex_arg(const Args& a, std::string_view name) {
    const Bytes bytes = hex_arg(a, name);
    if (bytes.size() != N) usage(std::string(name) + " must be " + std::to_string(N) + " bytes");
    std::array<std::uint8_t, N> out{};
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

std::int64_t int_arg(const Args& a, std::string_view name) {
    const std::string& text = a.get(name);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        usage(std::string(name) + " must be an integer");
    }
    return value;
}

int run_mint(const Args& a) {
    Bytes root_key = hex_arg(a, "--root-key");
    crypto::L402Identifier id;
    id.payment_hash = fixed_hex_arg<crypto::kPaymentHashBytes>(a, "--payment-hash");
    id.token_id = fixed_hex_arg<crypto::kTokenIdBytes>(a, "--token-id");
    const auto location = a.single.find("--location");
    crypto::Macaroon m = crypto::mint_macaroon(
        root_key, crypto::encode_l402_identifier(id),
        location == a.single.end() ? std::string_view{} : std::string_view(location->second));
    crypto::secure_wipe(root_key.data(), root_key.size());
    const crypto::GrantCaveats grant{a.get("--file-id"), int_arg(a, "--payer"),
                                     int_arg(a, "--expires")};
    if (!is_file_id(grant.file_id)) usage("--file-id must be a file id");
    if (grant.payer_account_id <= 0 || grant.expires_unix_s < 0) {
        usage("--payer must be positive and --expires not negative");
    }
    crypto::add_grant_caveats(m, grant);
    for (const std::string& caveat : a.caveats) crypto::add_first_party_caveat(m, caveat);
    std::printf("%s\n", crypto::encode_macaroon_base64(m).c_str());
    return 0;
}

void print_grant(const crypto::GrantCaveats& g, const crypto::PaymentHash* payment_hash) {
    std::printf("payer=%lld expires=%lld", static_cast<long long>(g.payer_account_id),
                static_cast<long long>(g.expires_unix_s));
    if (payment_hash != nullptr) std::printf(" payment_hash=%s", hex_encode(*payment_hash).c_str());
    std::printf("\n");
}

int run_verify(const Args& a) {
    Bytes root_key = hex_arg(a, "--root-key");
    auto m = crypto::decode_macaroon_base64(a.get("--macaroon"));
    if (!m) refuse(m.error());
    const std::string& file_id = a.get("--file-id");
    auto grant = crypto::verify_grant(*m, root_key, {file_id, int_arg(a, "--now")});
    crypto::secure_wipe(root_key.data(), root_key.size());
    if (!grant) refuse(grant.error());
    auto id = crypto::decode_l402_identifier(m->identifier);
    print_grant(*grant, id ? &id->payment_hash : nullptr);
    return 0;
}

int run_l402(const Args& a) {
    Bytes root_key = hex_arg(a, "--root-key");
    auto credential = crypto::parse_l402_authorization(a.get("--authorization"));
    if (!credential) refuse(credential.error());
    const std::string& file_id = a.get("--file-id");
    auto grant = crypto::verify_l402(*credential, root_key, {file_id, int_arg(a, "--now")});
    crypto::secure_wipe(root_key.data(), root_key.size());
    if (!grant) refuse(grant.error());
    print_grant(grant->caveats, &grant->identifier.payment_hash);
    return 0;
}

int run_reencode(const Args& a) {
    auto m = crypto::decode_macaroon_base64(a.get("--macaroon"));
    if (!m) refuse(m.error());
    std::printf("%s\n", crypto::encode_macaroon_base64(*m).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("usage: macaroon_tool mint|verify|l402|reencode [options]");
    const std::string_view mode = argv[1];
    int status = 2;
    if (mode == "mint") {
        status = run_mint(parse_args(argc, argv,
                                     {"--root-key", "--payment-hash", "--token-id", "--file-id",
                                      "--payer", "--expires", "--location"}));
    } else if (mode == "verify") {
        status =
            run_verify(parse_args(argc, argv, {"--root-key", "--file-id", "--now", "--macaroon"}));
    } else if (mode == "l402") {
        status = run_l402(
            parse_args(argc, argv, {"--root-key", "--file-id", "--now", "--authorization"}));
    } else if (mode == "reencode") {
        status = run_reencode(parse_args(argc, argv, {"--macaroon"}));
    } else {
        usage("unknown mode '" + std::string(mode) + "'");
    }
    return std::fflush(stdout) == 0 ? status : 1;
}
