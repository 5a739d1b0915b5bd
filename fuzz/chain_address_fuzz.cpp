// Fuzzes segwit address decoding (bech32/bech32m, every network): no crash; an accepted
// address has a valid program for its version, and re-encodes to the same text in lower case,
// which decodes to the same program; its scriptPubKey maps back to that program. The generic
// bech32 decoder's accepted strings re-encode to themselves too.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chain/address.h"
#include "chain/bech32.h"

namespace chain = satload::chain;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (const auto d = chain::bech32_decode(text)) {
        if (chain::bech32_encode(d->hrp, d->data, d->encoding) != lower(text)) std::abort();
    }

    const auto any = chain::decode_segwit_address_any(text);
    if (!any) return 0;
    const chain::WitnessProgram& p = any->program;
    if (p.version > chain::kMaxWitnessVersion) std::abort();
    if (p.program.size() < chain::kMinWitnessProgramBytes ||
        p.program.size() > chain::kMaxWitnessProgramBytes) {
        std::abort();
    }
    if (p.version == 0 && p.program.size() != chain::kP2wpkhProgramBytes &&
        p.program.size() != chain::kP2wshProgramBytes) {
        std::abort();
    }
    const chain::NetworkParams& net = chain::network_params(any->network);
    const std::string again = chain::encode_segwit_address(net, p);
    if (again != lower(text)) std::abort();
    const auto back = chain::decode_segwit_address(net, again);
    if (!back || !(*back == p)) std::abort();
    const auto from_script = chain::witness_program_of(chain::witness_script_pubkey(p));
    if (!from_script || !(*from_script == p)) std::abort();
    return 0;
}
