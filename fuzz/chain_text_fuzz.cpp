// Fuzzes the text forms of the wallet's keys and paths an operator pastes (chain/base58.h,
// bip32.h, bip39.h): no crash; every accepted text is the one canonical spelling of what it
// decoded to (base58 and Base58Check, extended keys under the versions they named, mnemonics);
// an accepted path formats to a path parsing to the same indices within the depth limit; and
// any bytes drawn from the input encode to a text that decodes back to them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chain/base58.h"
#include "chain/bip32.h"
#include "chain/bip39.h"
#include "chain/network.h"

namespace chain = satload::chain;

namespace {

void check_base58(std::string_view text, satload::ByteSpan input) {
    if (const auto b = chain::base58_decode(text)) {
        if (text.size() > chain::kMaxBase58Chars || chain::base58_encode(*b) != text) std::abort();
    }
    if (const auto p = chain::base58check_decode(text)) {
        if (chain::base58check_encode(*p) != text) std::abort();
    }
    // Inputs short enough to stay within kMaxBase58Chars once encoded with the checksum.
    const satload::ByteSpan bytes = input.first(std::min<std::size_t>(input.size(), 80));
    // No bytes encode to "", which is refused as empty.
    const auto plain = chain::base58_decode(chain::base58_encode(bytes));
    if (plain.has_value() == bytes.empty()) std::abort();
    if (plain && !std::equal(plain->begin(), plain->end(), bytes.begin(), bytes.end())) std::abort();
    const auto checked = chain::base58check_decode(chain::base58check_encode(bytes));
    if (!checked || !std::equal(checked->begin(), checked->end(), bytes.begin(), bytes.end())) std::abort();
}

void check_path(std::string_view text) {
    const auto path = chain::parse_path(text);
    if (!path) return;
    if (text.size() > chain::kMaxPathChars || path->size() > chain::kMaxPathDepth) std::abort();
    const std::string formatted = chain::format_path(*path);
    const auto again = chain::parse_path(formatted);
    if (!again || *again != *path) std::abort();
    // The only other spelling is 'h' for the hardened mark.
    std::string canonical(text);
    std::replace(canonical.begin(), canonical.end(), 'h', '\'');
    if (canonical != formatted) std::abort();
}

void check_extended_key(std::string_view text) {
    const auto d = chain::decode_extended_key(text);
    if (!d) return;
    const chain::NetworkParams& net = chain::network_params(d->network);
    const chain::ExtendedKeyVersions& versions = d->bip84 ? net.bip84 : net.bip32;
    const std::string again = d->key.is_private() ? chain::encode_extended_private(d->key, versions)
                                                  : chain::encode_extended_public(d->key, versions);
    if (again != text) std::abort();
    // Its public form decodes to the same node without the private key.
    const auto pub = chain::decode_extended_key(chain::encode_extended_public(d->key, versions));
    if (!pub || pub->key.is_private() || pub->key.fingerprint() != d->key.fingerprint()) std::abort();
}

void check_mnemonic(std::string_view text, satload::ByteSpan input) {
    if (const auto entropy = chain::mnemonic_to_entropy(text)) {
        const auto words = chain::mnemonic_from_entropy(*entropy);
        if (!words || *words != text) std::abort();
    }
    // Entropy of a valid length drawn from the input.
    for (const std::size_t n : {16, 20, 24, 28, 32}) {
        if (input.size() < n) break;
        const auto words = chain::mnemonic_from_entropy(input.first(n));
        if (!words) std::abort();
        const auto back = chain::mnemonic_to_entropy(*words);
        if (!back || !std::equal(back->begin(), back->end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n))) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const satload::ByteSpan input(data, size);
    check_base58(text, input);
    check_path(text);
    check_extended_key(text);
    check_mnemonic(text, input);
    return 0;
}
