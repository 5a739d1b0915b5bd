// The parameter table of network.h.
#include "chain/network.h"

#include "core/check.h"

namespace satload::chain {
namespace {

constexpr NetworkParams kMain{
    Network::main, "main", "bc", 0, {kXprvVersion, kXpubVersion}, {kZprvVersion, kZpubVersion},
    0x80};
constexpr NetworkParams kTest{
    Network::test, "test", "tb", 1, {kTprvVersion, kTpubVersion}, {kVprvVersion, kVpubVersion},
    0xef};
constexpr NetworkParams kRegtest{Network::regtest,
                                 "regtest",
                                 "bcrt",
                                 1,
                                 {kTprvVersion, kTpubVersion},
                                 {kVprvVersion, kVpubVersion},
                                 0xef};

}  // namespace

const NetworkParams& network_params(Network network) {
    switch (network) {
        case Network::main:
            return kMain;
        case Network::test:
            return kTest;
        case Network::regtest:
            return kRegtest;
    }
    SATLOAD_ASSERT(false);
    return kMain;
}

std::optional<Network> parse_network(std::string_view name) {
    for (const NetworkParams* p : {&kMain, &kTest, &kRegtest}) {
        if (p->name == name) return p->network;
    }
    return std::nullopt;
}

std::optional<Network> network_for_hrp(std::string_view hrp) {
    for (const NetworkParams* p : {&kMain, &kTest, &kRegtest}) {
        if (p->bech32_hrp == hrp) return p->network;
    }
    return std::nullopt;
}

}  // namespace satload::chain
