// Network parameters for main, test and regtest: the bech32 prefix of addresses, the BIP44
// coin type, the BIP32 and BIP84 extended-key versions and the WIF prefix. Which network a
// deployment runs on is configuration (`--network`); everything here is a constant table.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace satload::chain {

enum class Network { main, test, regtest };

// The 4-byte version prefixes of serialized extended keys.
struct ExtendedKeyVersions {
    std::uint32_t private_version = 0;
    std::uint32_t public_version = 0;
};

struct NetworkParams {
    Network network = Network::main;
    std::string_view name;        // "main", "test", "regtest" (the --network values)
    std::string_view bech32_hrp;  // bc, tb, bcrt (Bitcoin Core's regtest prefix; bcoin uses rb)
    std::uint32_t coin_type = 0;  // BIP44: 0 on main, 1 on every test network
    ExtendedKeyVersions bip32;    // xprv/xpub; tprv/tpub
    ExtendedKeyVersions bip84;    // SLIP-132 zprv/zpub; vprv/vpub
    std::uint8_t wif_prefix = 0;  // 0x80; 0xef
};

inline constexpr std::uint32_t kXprvVersion = 0x0488ade4;
inline constexpr std::uint32_t kXpubVersion = 0x0488b21e;
inline constexpr std::uint32_t kTprvVersion = 0x04358394;
inline constexpr std::uint32_t kTpubVersion = 0x043587cf;
inline constexpr std::uint32_t kZprvVersion = 0x04b2430c;
inline constexpr std::uint32_t kZpubVersion = 0x04b24746;
inline constexpr std::uint32_t kVprvVersion = 0x045f18bc;
inline constexpr std::uint32_t kVpubVersion = 0x045f1cf6;

[[nodiscard]] const NetworkParams& network_params(Network network);
// "main" | "test" | "regtest"; anything else (including other spellings) gives nullopt.
[[nodiscard]] std::optional<Network> parse_network(std::string_view name);
// The network whose addresses carry this (lowercase) bech32 prefix, if any.
[[nodiscard]] std::optional<Network> network_for_hrp(std::string_view hrp);

}  // namespace satload::chain
