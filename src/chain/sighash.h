// BIP143 signature hashes for segwit version 0 inputs, and signing P2WPKH spends with them:
// the witness of each input is <DER signature || hash type> <compressed public key>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "chain/hashes.h"
#include "chain/keys.h"
#include "chain/transaction.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

// The hash types of BIP143 (as in legacy signing).
inline constexpr std::uint32_t kSighashAll = 0x01;
inline constexpr std::uint32_t kSighashNone = 0x02;
inline constexpr std::uint32_t kSighashSingle = 0x03;
inline constexpr std::uint32_t kSighashAnyoneCanPay = 0x80;

// The digest input `index` signs, spending an output of `amount_sat` whose scriptCode is
// `script_code` (without its length prefix). The index must be an input of the transaction.
[[nodiscard]] Hash256 bip143_sighash(const Transaction& tx, std::size_t index, ByteSpan script_code,
                                     std::int64_t amount_sat, std::uint32_t hash_type);

// What a P2WPKH input spends: the coin and the key that owns it.
struct P2wpkhCoin {
    OutPoint prevout;
    std::int64_t value_sat = 0;
    PrivateKey key;
    std::uint32_t sequence = kSequenceRbf;
};

enum class SignError {
    no_inputs,
    no_outputs,
    too_many_inputs,        // above kMaxTxInputs
    too_many_outputs,       // above kMaxTxOutputs
    amount_out_of_range,    // a coin or an output below 0 (outputs) / 1 (coins) or above max
    outputs_exceed_inputs,  // the outputs spend more than the coins hold
    duplicate_input,        // the same outpoint twice
};

[[nodiscard]] std::string_view sign_error_name(SignError e);

// A transaction spending P2WPKH coins to `outputs`, every input signed with SIGHASH_ALL. The
// fee is whatever the coins hold beyond the outputs.
[[nodiscard]] Result<Transaction, SignError> sign_p2wpkh_spend(std::span<const P2wpkhCoin> coins,
                                                               std::span<const TxOut> outputs,
                                                               std::uint32_t version,
                                                               std::uint32_t lock_time);

// Signs input `index` of `tx` (a P2WPKH coin of `amount_sat` owned by `key`) with SIGHASH_ALL
// and sets its witness.
void sign_p2wpkh_input(Transaction& tx, std::size_t index, const PrivateKey& key,
                       std::int64_t amount_sat);

}  // namespace satload::chain
