// BIP143 digests and P2WPKH signing.
#include "chain/sighash.h"

#include <set>

#include "chain/address.h"
#include "chain/serialize.h"
#include "core/check.h"

namespace satload::chain {
namespace {

constexpr Hash256 kZeroHash{};

Hash256 hash_prevouts(const Transaction& tx) {
    ByteWriter w;
    for (const TxIn& in : tx.inputs) {
        w.bytes(in.prevout.txid);
        w.u32(in.prevout.vout);
    }
    return sha256d(w.data());
}

Hash256 hash_sequences(const Transaction& tx) {
    ByteWriter w;
    for (const TxIn& in : tx.inputs) w.u32(in.sequence);
    return sha256d(w.data());
}

void write_output(ByteWriter& w, const TxOut& out) {
    w.u64(static_cast<std::uint64_t>(out.value_sat));
    w.var_bytes(out.script_pubkey);
}

Hash256 hash_outputs(std::span<const TxOut> outputs) {
    ByteWriter w;
    for (const TxOut& out : outputs) write_output(w, out);
    return sha256d(w.data());
}

}  // namespace

Hash256 bip143_sighash(const Transaction& tx, std::size_t index, ByteSpan script_code,
                       std::int64_t amount_sat, std::uint32_t hash_type) {
    SATLOAD_ASSERT(index < tx.inputs.size());
    SATLOAD_ASSERT(amount_sat >= 0 && amount_sat <= kMaxMoneySat);
    const bool anyone_can_pay = (hash_type & kSighashAnyoneCanPay) != 0;
    const std::uint32_t base = hash_type & 0x1f;

    const Hash256 prevouts = anyone_can_pay ? kZeroHash : hash_prevouts(tx);
    const Hash256 sequences = (anyone_can_pay || base == kSighashSingle || base == kSighashNone)
                                  ? kZeroHash
                                  : hash_sequences(tx);
    Hash256 outputs = kZeroHash;
    if (base != kSighashSingle && base != kSighashNone) {
        outputs = hash_outputs(tx.outputs);
    } else if (base == kSighashSingle && index < tx.outputs.size()) {
        outputs = hash_outputs(std::span(tx.outputs).subspan(index, 1));
    }

    const TxIn& in = tx.inputs[index];
    ByteWriter w;
    w.u32(tx.version);
    w.bytes(prevouts);
    w.bytes(sequences);
    w.bytes(in.prevout.txid);
    w.u32(in.prevout.vout);
    w.var_bytes(script_code);
    w.u64(static_cast<std::uint64_t>(amount_sat));
    w.u32(in.sequence);
    w.bytes(outputs);
    w.u32(tx.lock_time);
    w.u32(hash_type);
    return sha256d(w.data());
}

std::string_view sign_error_name(SignError e) {
    switch (e) {
        case SignError::no_inputs:
            return "no_inputs";
        case SignError::no_outputs:
            return "no_outputs";
        case SignError::too_many_inputs:
            return "too_many_inputs";
        case SignError::too_many_outputs:
            return "too_many_outputs";
        case SignError::amount_out_of_range:
            return "amount_out_of_range";
        case SignError::outputs_exceed_inputs:
            return "outputs_exceed_inputs";
        case SignError::duplicate_input:
            return "duplicate_input";
    }
    return "unknown";
}

void sign_p2wpkh_input(Transaction& tx, std::size_t index, const PrivateKey& key,
                       std::int64_t amount_sat) {
    SATLOAD_ASSERT(index < tx.inputs.size());
    const PublicKey pub = key.public_key();
    const Bytes script_code = p2wpkh_script_code(hash160(pub.bytes()));
    const Hash256 digest = bip143_sighash(tx, index, script_code, amount_sat, kSighashAll);
    Bytes signature = key.sign_der(digest);
    signature.push_back(static_cast<std::uint8_t>(kSighashAll));
    TxIn& in = tx.inputs[index];
    in.script_sig.clear();  // native segwit: the script stays empty
    in.witness = {std::move(signature), Bytes(pub.bytes().begin(), pub.bytes().end())};
}

Result<Transaction, SignError> sign_p2wpkh_spend(std::span<const P2wpkhCoin> coins,
                                                 std::span<const TxOut> outputs,
                                                 std::uint32_t version, std::uint32_t lock_time) {
    if (coins.empty()) return fail(SignError::no_inputs);
    if (outputs.empty()) return fail(SignError::no_outputs);
    if (coins.size() > kMaxTxInputs) return fail(SignError::too_many_inputs);
    if (outputs.size() > kMaxTxOutputs) return fail(SignError::too_many_outputs);

    // Whole sats, checked: each amount and each running sum stays within kMaxMoneySat, so no
    // addition can overflow (two values of at most 2.1e15 each).
    std::int64_t in_sat = 0;
    std::set<std::pair<Hash256, std::uint32_t>> seen;
    for (const P2wpkhCoin& c : coins) {
        if (c.value_sat <= 0 || c.value_sat > kMaxMoneySat) {
            return fail(SignError::amount_out_of_range);
        }
        in_sat += c.value_sat;
        if (in_sat > kMaxMoneySat) return fail(SignError::amount_out_of_range);
        if (!seen.insert({c.prevout.txid, c.prevout.vout}).second) {
            return fail(SignError::duplicate_input);
        }
    }
    std::int64_t out_sat = 0;
    for (const TxOut& o : outputs) {
        if (o.value_sat < 0 || o.value_sat > kMaxMoneySat) {
            return fail(SignError::amount_out_of_range);
        }
        out_sat += o.value_sat;
        if (out_sat > kMaxMoneySat) return fail(SignError::amount_out_of_range);
    }
    if (out_sat > in_sat) return fail(SignError::outputs_exceed_inputs);

    Transaction tx;
    tx.version = version;
    tx.lock_time = lock_time;
    tx.inputs.reserve(coins.size());
    for (const P2wpkhCoin& c : coins) {
        TxIn in;
        in.prevout = c.prevout;
        in.sequence = c.sequence;
        tx.inputs.push_back(std::move(in));
    }
    tx.outputs.assign(outputs.begin(), outputs.end());
    // BIP143 digests do not cover witnesses, so signing in order is independent of order.
    for (std::size_t i = 0; i < coins.size(); ++i) {
        sign_p2wpkh_input(tx, i, coins[i].key, coins[i].value_sat);
    }
    return tx;
}

}  // namespace satload::chain
