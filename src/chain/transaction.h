// Raw bitcoin transactions: the data, the wire format with and without segwit's marker, flag
// and witnesses (BIP144), parsing under strict limits with a named reason for every refusal,
// and txid / wtxid. Whatever parses re-serializes to exactly the bytes it came from.
//
// The limits are derived from consensus rules, so that no transaction of a valid block is ever
// refused (the chain watcher must parse every block the node gives it): they bound memory and
// work, not policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "chain/hashes.h"
#include "chain/serialize.h"
#include "core/encoding.h"
#include "core/money.h"
#include "core/result.h"

namespace satload::chain {

// Consensus: a block weighs at most 4,000,000 units, and every byte weighs at least one, so no
// transaction (with witnesses) or block is larger.
inline constexpr std::size_t kMaxBlockWeight = 4'000'000;
inline constexpr std::size_t kWitnessScaleFactor = 4;
inline constexpr std::size_t kMaxTxBytes = kMaxBlockWeight;
// Non-witness bytes weigh four units each, so a scriptSig or scriptPubKey is at most this long.
inline constexpr std::size_t kMaxScriptBytes = kMaxBlockWeight / kWitnessScaleFactor;
// An input is at least 41 bytes (outpoint 36, script length 1, sequence 4) and an output at
// least 9 (value 8, script length 1), all of them non-witness bytes.
inline constexpr std::size_t kMinTxInBytes = 41;
inline constexpr std::size_t kMinTxOutBytes = 9;
inline constexpr std::size_t kMaxTxInputs = kMaxScriptBytes / kMinTxInBytes;
inline constexpr std::size_t kMaxTxOutputs = kMaxScriptBytes / kMinTxOutBytes;
// A witness item takes at least its one-byte length; spends of future witness versions have
// no consensus limit on the stack, so only the size bounds it.
inline constexpr std::size_t kMaxWitnessItems = kMaxTxBytes;
inline constexpr std::size_t kMaxWitnessItemBytes = kMaxTxBytes;
// Consensus MAX_MONEY: no output, and no sum of outputs, exceeds 21 million bitcoin.
inline constexpr std::int64_t kMaxMoneySat = kSupplyBtc * kSatPerBtc;

inline constexpr std::uint32_t kSequenceFinal = 0xffffffff;
// BIP125: any sequence below 0xfffffffe signals replaceability.
inline constexpr std::uint32_t kSequenceRbf = 0xfffffffd;

struct OutPoint {
    Hash256 txid{};  // internal byte order
    std::uint32_t vout = 0;
    bool operator==(const OutPoint&) const = default;
};

struct TxIn {
    OutPoint prevout;
    Bytes script_sig;
    std::uint32_t sequence = kSequenceFinal;
    std::vector<Bytes> witness;  // empty when the input has none
    bool operator==(const TxIn&) const = default;
};

struct TxOut {
    std::int64_t value_sat = 0;
    Bytes script_pubkey;
    bool operator==(const TxOut&) const = default;
};

struct Transaction {
    std::uint32_t version = 2;
    std::vector<TxIn> inputs;
    std::vector<TxOut> outputs;
    std::uint32_t lock_time = 0;

    // True when any input carries witness data (then the segwit format is written).
    [[nodiscard]] bool has_witness() const;
    bool operator==(const Transaction&) const = default;
};

// Every refusal of the transaction and block parsers.
enum class ParseError {
    truncated,               // the data ends inside a field
    non_canonical_size,      // a CompactSize not in its shortest form
    too_large,               // the whole input is above kMaxTxBytes (or kMaxBlockBytes)
    too_many_inputs,         // above kMaxTxInputs
    too_many_outputs,        // above kMaxTxOutputs
    script_too_large,        // a script above kMaxScriptBytes
    too_many_witness_items,  // above kMaxWitnessItems
    witness_item_too_large,  // above kMaxWitnessItemBytes
    no_inputs,               // consensus: a transaction spends something
    no_outputs,              // consensus: a transaction pays something
    bad_segwit_flag,         // a segwit marker with a flag other than 1
    superfluous_witness,     // the segwit format with no witness data at all
    amount_out_of_range,     // an output, or the outputs' sum, below 0 or above kMaxMoneySat
    trailing_bytes,          // data after the transaction (or block)
    // Blocks only.
    no_transactions,        // a block has at least its coinbase
    too_many_transactions,  // above kMaxBlockTransactions
};

[[nodiscard]] std::string_view parse_error_name(ParseError e);

[[nodiscard]] Bytes serialize_transaction(const Transaction& tx);
// The legacy format (no marker, flag or witnesses): what the txid hashes.
[[nodiscard]] Bytes serialize_transaction_without_witness(const Transaction& tx);
void write_transaction(ByteWriter& out, const Transaction& tx, bool with_witness);

[[nodiscard]] Result<Transaction, ParseError> parse_transaction(ByteSpan data);
// One transaction from the reader's position (for blocks); leaves the reader after it.
[[nodiscard]] Result<Transaction, ParseError> read_transaction(ByteReader& in);

[[nodiscard]] Hash256 txid(const Transaction& tx);
// Equals the txid when the transaction has no witness.
[[nodiscard]] Hash256 wtxid(const Transaction& tx);
// BIP141: base size * 3 + total size.
[[nodiscard]] std::size_t transaction_weight(const Transaction& tx);
// Weight / 4, rounded up.
[[nodiscard]] std::size_t transaction_vsize(const Transaction& tx);

}  // namespace satload::chain
