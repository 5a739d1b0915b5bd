// Interop helper for tests/interop/bitcoin.test.mjs: satload's bitcoin layer (src/chain) on
// the command line, so bitcoinjs-lib, bip32 and bip39 can check what it derives and signs.
// Every command prints one JSON object on stdout.
//   chain_tool wordlist                          {"words":[...2048]}
//   chain_tool mnemonic --entropy HEX            {"mnemonic":"..."}
//   chain_tool seed --mnemonic M [--passphrase P]   {"seed":"<hex>"}
//   chain_tool derive --mnemonic M [--passphrase P] --network N --account A --change C
//                     --from I --count K
//       {"account_path","account_xpub","account_slip132_pub",
//        "keys":[{"path","public_key","address"}...]}
//   chain_tool xkey --mnemonic M [--passphrase P] --network N --path PATH
//       {"xprv","xpub"}
//   chain_tool spend --mnemonic M [--passphrase P] --network N [--version V] [--locktime L]
//                    --input TXID:VOUT:VALUE_SAT:PATH[:SEQUENCE]... --output ADDRESS:VALUE_SAT...
//       {"txid","wtxid","vsize","hex"}   (TXID in display order, PATH like m/84'/1'/0'/0/3)
//   chain_tool parse-tx --hex HEX                {"txid","wtxid","vsize","hex"} (re-encoded)
//   chain_tool parse-block --hex HEX             {"hash","merkle_ok","txids":[...],"hex"}
//   chain_tool block-outputs --hex HEX           {"hash","outputs":[{"txid","vout","value_sat",
//                                                 "script_pubkey"}...]}  (every tx's outputs,
//                                                 so a test can find a coinbase to spend)
//   chain_tool address --network N --address A   {"version","program","script_pubkey"}
// A refusal prints the error's name on stderr and exits 1; a usage error exits 2.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "chain/address.h"
#include "chain/bip32.h"
#include "chain/bip39.h"
#include "chain/block.h"
#include "chain/sighash.h"
#include "chain/transaction.h"
#include "core/encoding.h"

namespace {

using namespace satload;
using namespace satload::chain;

[[noreturn]] void usage(const std::string& message) {
    std::fprintf(stderr, "chain_tool: %s\n", message.c_str());
    std::exit(2);
}

[[noreturn]] void refuse(std::string_view name) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(name.size()), name.data());
    std::exit(1);
}

struct Args {
    std::map<std::string, std::vector<std::string>, std::less<>> values;

    [[nodiscard]] const std::string& get(std::string_view name) const {
        const auto it = values.find(name);
        if (it == values.end() || it->second.empty()) usage("missing " + std::string(name));
        return it->second.front();
    }
    [[nodiscard]] std::string get_or(std::string_view name, std::string fallback) const {
        const auto it = values.find(name);
        return it == values.end() || it->second.empty() ? fallback : it->second.front();
    }
    [[nodiscard]] std::vector<std::string> all(std::string_view name) const {
        const auto it = values.find(name);
        return it == values.end() ? std::vector<std::string>{} : it->second;
    }
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 2; i < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag.substr(0, 2) != "--") usage("unexpected argument " + std::string(flag));
        if (i + 1 >= argc) usage("missing value for " + std::string(flag));
        a.values[std::string(flag)].emplace_back(argv[i + 1]);
    }
    return a;
}

template <class T>
T number(std::string_view text, std::string_view what) {
    T v{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
        usage(std::string(what) + " must be a number");
    }
    return v;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

const NetworkParams& network_arg(const Args& a) {
    const auto n = parse_network(a.get("--network"));
    if (!n) usage("--network must be main, test or regtest");
    return network_params(*n);
}

ExtendedKey root_from(const Args& a) {
    const auto seed = mnemonic_to_seed(a.get("--mnemonic"), a.get_or("--passphrase", ""));
    if (!seed) refuse(mnemonic_error_name(seed.error()));
    auto root = master_key_from_seed(seed->bytes);
    if (!root) refuse(bip32_error_name(root.error()));
    return *root;
}

ExtendedKey derive_or_refuse(const ExtendedKey& root, const DerivationPath& path) {
    auto key = derive_path(root, path);
    if (!key) refuse(bip32_error_name(key.error()));
    return *key;
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = std::min(text.find(sep, start), text.size());
        out.emplace_back(text.substr(start, end - start));
        if (end == text.size()) break;
        start = end + 1;
    }
    return out;
}

std::string tx_json(const Transaction& tx) {
    return "{\"txid\":" + json_string(hash_to_display_hex(txid(tx))) +
           ",\"wtxid\":" + json_string(hash_to_display_hex(wtxid(tx))) +
           ",\"vsize\":" + std::to_string(transaction_vsize(tx)) +
           ",\"hex\":" + json_string(hex_encode(serialize_transaction(tx))) + "}";
}

Bytes hex_arg(const Args& a, std::string_view name) {
    auto b = hex_decode(a.get(name));
    if (!b) usage(std::string(name) + " must be hex");
    return *b;
}

int cmd_wordlist() {
    std::string out = "{\"words\":[";
    bool first = true;
    for (const std::string_view w : bip39_english_words()) {
        if (!first) out += ',';
        first = false;
        out += json_string(w);
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
}

int cmd_mnemonic(const Args& a) {
    const auto words = mnemonic_from_entropy(hex_arg(a, "--entropy"));
    if (!words) refuse(mnemonic_error_name(words.error()));
    std::printf("{\"mnemonic\":%s}\n", json_string(*words).c_str());
    return 0;
}

int cmd_seed(const Args& a) {
    const auto seed = mnemonic_to_seed(a.get("--mnemonic"), a.get_or("--passphrase", ""));
    if (!seed) refuse(mnemonic_error_name(seed.error()));
    std::printf("{\"seed\":%s}\n", json_string(hex_encode(seed->bytes)).c_str());
    return 0;
}

int cmd_derive(const Args& a) {
    const NetworkParams& net = network_arg(a);
    const auto account = number<std::uint32_t>(a.get("--account"), "--account");
    const auto change = number<std::uint32_t>(a.get("--change"), "--change");
    const auto from = number<std::uint32_t>(a.get("--from"), "--from");
    const auto count = number<std::uint32_t>(a.get("--count"), "--count");
    if (change > 1 || account >= kHardenedBit || from >= kHardenedBit || count > 1000) {
        usage("account, change, from or count out of range");
    }
    const ExtendedKey root = root_from(a);
    const DerivationPath account_path = bip84_account_path(net, account);
    const ExtendedKey account_key = derive_or_refuse(root, account_path);
    std::string out =
        "{\"account_path\":" + json_string(format_path(account_path)) +
        ",\"account_xpub\":" + json_string(encode_extended_public(account_key, net.bip32)) +
        ",\"account_slip132_pub\":" + json_string(encode_extended_public(account_key, net.bip84)) +
        ",\"keys\":[";
    for (std::uint32_t i = 0; i < count; ++i) {
        const DerivationPath path = bip84_path(net, account, change, from + i);
        const ExtendedKey key = derive_or_refuse(root, path);
        if (i != 0) out += ',';
        out += "{\"path\":" + json_string(format_path(path)) +
               ",\"public_key\":" + json_string(hex_encode(key.public_key.bytes())) +
               ",\"address\":" + json_string(p2wpkh_address(net, key.public_key)) + "}";
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
}

int cmd_xkey(const Args& a) {
    const NetworkParams& net = network_arg(a);
    const auto path = parse_path(a.get("--path"));
    if (!path) refuse(path_error_name(path.error()));
    const ExtendedKey key = derive_or_refuse(root_from(a), *path);
    std::printf("{\"xprv\":%s,\"xpub\":%s}\n",
                json_string(encode_extended_private(key, net.bip32)).c_str(),
                json_string(encode_extended_public(key, net.bip32)).c_str());
    return 0;
}

int cmd_spend(const Args& a) {
    const NetworkParams& net = network_arg(a);
    const ExtendedKey root = root_from(a);
    std::vector<P2wpkhCoin> coins;
    for (const std::string& spec : a.all("--input")) {
        const auto parts = split(spec, ':');
        if (parts.size() != 4 && parts.size() != 5) usage("--input TXID:VOUT:VALUE_SAT:PATH[:SEQ]");
        const auto txid_bytes = hash_from_display_hex(parts[0]);
        if (!txid_bytes) usage("input txid must be 64 hex digits");
        const auto path = parse_path(parts[3]);
        if (!path) refuse(path_error_name(path.error()));
        const ExtendedKey key = derive_or_refuse(root, *path);
        P2wpkhCoin c{OutPoint{*txid_bytes, number<std::uint32_t>(parts[1], "vout")},
                     number<std::int64_t>(parts[2], "value"), *key.private_key, kSequenceRbf};
        if (parts.size() == 5) c.sequence = number<std::uint32_t>(parts[4], "sequence");
        coins.push_back(std::move(c));
    }
    std::vector<TxOut> outputs;
    for (const std::string& spec : a.all("--output")) {
        const auto parts = split(spec, ':');
        if (parts.size() != 2) usage("--output ADDRESS:VALUE_SAT");
        const auto program = decode_segwit_address(net, parts[0]);
        if (!program) refuse(address_error_name(program.error()));
        outputs.push_back(
            TxOut{number<std::int64_t>(parts[1], "value"), witness_script_pubkey(*program)});
    }
    const auto tx = sign_p2wpkh_spend(
        coins, outputs, number<std::uint32_t>(a.get_or("--version", "2"), "version"),
        number<std::uint32_t>(a.get_or("--locktime", "0"), "locktime"));
    if (!tx) refuse(sign_error_name(tx.error()));
    std::printf("%s\n", tx_json(*tx).c_str());
    return 0;
}

int cmd_parse_tx(const Args& a) {
    const auto tx = parse_transaction(hex_arg(a, "--hex"));
    if (!tx) refuse(parse_error_name(tx.error()));
    std::printf("%s\n", tx_json(*tx).c_str());
    return 0;
}

int cmd_parse_block(const Args& a) {
    const auto block = parse_block(hex_arg(a, "--hex"));
    if (!block) refuse(parse_error_name(block.error()));
    std::string out =
        "{\"hash\":" + json_string(hash_to_display_hex(block_hash(block->header))) +
        ",\"merkle_ok\":" +
        (merkle_root(block->transactions) == block->header.merkle_root ? "true" : "false") +
        ",\"txids\":[";
    for (std::size_t i = 0; i < block->transactions.size(); ++i) {
        if (i != 0) out += ',';
        out += json_string(hash_to_display_hex(txid(block->transactions[i])));
    }
    out += "],\"hex\":" + json_string(hex_encode(serialize_block(*block))) + "}";
    std::printf("%s\n", out.c_str());
    return 0;
}

int cmd_block_outputs(const Args& a) {
    const auto block = parse_block(hex_arg(a, "--hex"));
    if (!block) refuse(parse_error_name(block.error()));
    std::string out = "{\"hash\":" + json_string(hash_to_display_hex(block_hash(block->header))) +
                      ",\"outputs\":[";
    bool first = true;
    for (const Transaction& tx : block->transactions) {
        const std::string id = json_string(hash_to_display_hex(txid(tx)));
        for (std::size_t i = 0; i < tx.outputs.size(); ++i) {
            if (!first) out += ',';
            first = false;
            out += "{\"txid\":" + id + ",\"vout\":" + std::to_string(i) +
                   ",\"value_sat\":" + std::to_string(tx.outputs[i].value_sat) +
                   ",\"script_pubkey\":" + json_string(hex_encode(tx.outputs[i].script_pubkey)) +
                   "}";
        }
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
}

int cmd_address(const Args& a) {
    const NetworkParams& net = network_arg(a);
    const auto program = decode_segwit_address(net, a.get("--address"));
    if (!program) refuse(address_error_name(program.error()));
    std::printf("{\"version\":%d,\"program\":%s,\"script_pubkey\":%s}\n", program->version,
                json_string(hex_encode(program->program)).c_str(),
                json_string(hex_encode(witness_script_pubkey(*program))).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("command required");
    const std::string_view command = argv[1];
    const Args a = parse_args(argc, argv);
    if (command == "wordlist") return cmd_wordlist();
    if (command == "mnemonic") return cmd_mnemonic(a);
    if (command == "seed") return cmd_seed(a);
    if (command == "derive") return cmd_derive(a);
    if (command == "xkey") return cmd_xkey(a);
    if (command == "spend") return cmd_spend(a);
    if (command == "parse-tx") return cmd_parse_tx(a);
    if (command == "parse-block") return cmd_parse_block(a);
    if (command == "block-outputs") return cmd_block_outputs(a);
    if (command == "address") return cmd_address(a);
    usage("unknown command " + std::string(command));
}
