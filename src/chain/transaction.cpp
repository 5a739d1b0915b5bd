// Transaction (de)serialization (BIP144 for the segwit form).
#include "chain/transaction.h"

#include "core/check.h"

namespace satload::chain {
namespace {

constexpr std::uint8_t kSegwitMarker = 0x00;
constexpr std::uint8_t kSegwitFlag = 0x01;

ParseError size_error(ByteReader::CompactSizeError e) {
    switch (e) {
        case ByteReader::CompactSizeError::truncated:
            return ParseError::truncated;
        case ByteReader::CompactSizeError::non_canonical:
            return ParseError::non_canonical_size;
        case ByteReader::CompactSizeError::too_large:
            return ParseError::too_large;
    }
    return ParseError::truncated;
}

// A CompactSize count or length at most `limit`; `over` names the refusal when above it.
// The limit check comes before the remaining-bytes check so each refusal has one reason.
Result<std::size_t, ParseError> read_size(ByteReader& in, std::size_t limit, ParseError over) {
    const auto n = in.compact_size();
    if (n.error) {
        // A size Bitcoin Core would refuse as too large is above every limit of ours too.
        if (*n.error == ByteReader::CompactSizeError::too_large) return fail(over);
        return fail(size_error(*n.error));
    }
    if (n.value > limit) return fail(over);
    return static_cast<std::size_t>(n.value);
}

Result<Bytes, ParseError> read_var_bytes(ByteReader& in, std::size_t limit, ParseError over) {
    const auto n = read_size(in, limit, over);
    if (!n) return fail(n.error());
    const auto b = in.bytes(*n);
    if (!b) return fail(ParseError::truncated);
    return Bytes(b->begin(), b->end());
}

Result<std::vector<TxIn>, ParseError> read_inputs(ByteReader& in, std::size_t count) {
    // Each input takes at least kMinTxInBytes: refuse a count the data cannot hold before
    // reserving memory for it.
    if (count > in.remaining() / kMinTxInBytes) return fail(ParseError::truncated);
    std::vector<TxIn> inputs(count);
    for (TxIn& txin : inputs) {
        const auto hash = in.bytes(32);
        if (!hash) return fail(ParseError::truncated);
        std::copy(hash->begin(), hash->end(), txin.prevout.txid.begin());
        const auto vout = in.u32();
        if (!vout) return fail(ParseError::truncated);
        txin.prevout.vout = *vout;
        auto script = read_var_bytes(in, kMaxScriptBytes, ParseError::script_too_large);
        if (!script) return fail(script.error());
        txin.script_sig = std::move(*script);
        const auto sequence = in.u32();
        if (!sequence) return fail(ParseError::truncated);
        txin.sequence = *sequence;
    }
    return inputs;
}

Result<std::vector<TxOut>, ParseError> read_outputs(ByteReader& in, std::size_t count) {
    if (count > in.remaining() / kMinTxOutBytes) return fail(ParseError::truncated);
    std::vector<TxOut> outputs(count);
    std::int64_t total = 0;
    for (TxOut& txout : outputs) {
        const auto value = in.u64();
        if (!value) return fail(ParseError::truncated);
        // Read as unsigned, then range-check: a negative value is a huge unsigned one.
        if (*value > static_cast<std::uint64_t>(kMaxMoneySat)) {
            return fail(ParseError::amount_out_of_range);
        }
        txout.value_sat = static_cast<std::int64_t>(*value);
        total += txout.value_sat;  // both at most kMaxMoneySat: no overflow
        if (total > kMaxMoneySat) return fail(ParseError::amount_out_of_range);
        auto script = read_var_bytes(in, kMaxScriptBytes, ParseError::script_too_large);
        if (!script) return fail(script.error());
        txout.script_pubkey = std::move(*script);
    }
    return outputs;
}

Result<std::vector<Bytes>, ParseError> read_witness(ByteReader& in) {
    const auto count = read_size(in, kMaxWitnessItems, ParseError::too_many_witness_items);
    if (!count) return fail(count.error());
    if (*count > in.remaining()) return fail(ParseError::truncated);  // one byte per item at least
    std::vector<Bytes> items;
    items.reserve(*count);
    for (std::size_t i = 0; i < *count; ++i) {
        auto item = read_var_bytes(in, kMaxWitnessItemBytes, ParseError::witness_item_too_large);
        if (!item) return fail(item.error());
        items.push_back(std::move(*item));
    }
    return items;
}

}  // namespace

bool Transaction::has_witness() const {
    for (const TxIn& in : inputs) {
        if (!in.witness.empty()) return true;
    }
    return false;
}

std::string_view parse_error_name(ParseError e) {
    switch (e) {
        case ParseError::truncated:
            return "truncated";
        case ParseError::non_canonical_size:
            return "non_canonical_size";
        case ParseError::too_large:
            return "too_large";
        case ParseError::too_many_inputs:
            return "too_many_inputs";
        case ParseError::too_many_outputs:
            return "too_many_outputs";
        case ParseError::script_too_large:
            return "script_too_large";
        case ParseError::too_many_witness_items:
            return "too_many_witness_items";
        case ParseError::witness_item_too_large:
            return "witness_item_too_large";
        case ParseError::no_inputs:
            return "no_inputs";
        case ParseError::no_outputs:
            return "no_outputs";
        case ParseError::bad_segwit_flag:
            return "bad_segwit_flag";
        case ParseError::superfluous_witness:
            return "superfluous_witness";
        case ParseError::amount_out_of_range:
            return "amount_out_of_range";
        case ParseError::trailing_bytes:
            return "trailing_bytes";
        case ParseError::no_transactions:
            return "no_transactions";
        case ParseError::too_many_transactions:
            return "too_many_transactions";
    }
    return "unknown";
}

void write_transaction(ByteWriter& out, const Transaction& tx, bool with_witness) {
    const bool segwit = with_witness && tx.has_witness();
    out.u32(tx.version);
    if (segwit) {
        out.u8(kSegwitMarker);
        out.u8(kSegwitFlag);
    }
    out.compact_size(tx.inputs.size());
    for (const TxIn& in : tx.inputs) {
        out.bytes(in.prevout.txid);
        out.u32(in.prevout.vout);
        out.var_bytes(in.script_sig);
        out.u32(in.sequence);
    }
    out.compact_size(tx.outputs.size());
    for (const TxOut& o : tx.outputs) {
        SATLOAD_ASSERT(o.value_sat >= 0 && o.value_sat <= kMaxMoneySat);
        out.u64(static_cast<std::uint64_t>(o.value_sat));
        out.var_bytes(o.script_pubkey);
    }
    if (segwit) {
        for (const TxIn& in : tx.inputs) {
            out.compact_size(in.witness.size());
            for (const Bytes& item : in.witness) out.var_bytes(item);
        }
    }
    out.u32(tx.lock_time);
}

Bytes serialize_transaction(const Transaction& tx) {
    ByteWriter w;
    write_transaction(w, tx, true);
    return w.take();
}

Bytes serialize_transaction_without_witness(const Transaction& tx) {
    ByteWriter w;
    write_transaction(w, tx, false);
    return w.take();
}

Result<Transaction, ParseError> read_transaction(ByteReader& in) {
    Transaction tx;
    const auto version = in.u32();
    if (!version) return fail(ParseError::truncated);
    tx.version = *version;

    // BIP144: a zero where the input count would be is the segwit marker, then the flag.
    // Transactions with no inputs are invalid, so the marker is never a real count of 0.
    bool segwit = false;
    if (in.peek() == std::optional<std::uint8_t>(kSegwitMarker)) {
        (void)in.u8();
        const auto flag = in.u8();
        if (!flag) return fail(ParseError::truncated);
        if (*flag != kSegwitFlag) return fail(ParseError::bad_segwit_flag);
        segwit = true;
    }
    const auto n_in = read_size(in, kMaxTxInputs, ParseError::too_many_inputs);
    if (!n_in) return fail(n_in.error());
    if (*n_in == 0) return fail(ParseError::no_inputs);
    auto inputs = read_inputs(in, *n_in);
    if (!inputs) return fail(inputs.error());
    tx.inputs = std::move(*inputs);

    const auto n_out = read_size(in, kMaxTxOutputs, ParseError::too_many_outputs);
    if (!n_out) return fail(n_out.error());
    if (*n_out == 0) return fail(ParseError::no_outputs);
    auto outputs = read_outputs(in, *n_out);
    if (!outputs) return fail(outputs.error());
    tx.outputs = std::move(*outputs);

    if (segwit) {
        for (TxIn& txin : tx.inputs) {
            auto witness = read_witness(in);
            if (!witness) return fail(witness.error());
            txin.witness = std::move(*witness);
        }
        // Bitcoin Core refuses the segwit form without witness data: it has a shorter form.
        if (!tx.has_witness()) return fail(ParseError::superfluous_witness);
    }
    const auto lock_time = in.u32();
    if (!lock_time) return fail(ParseError::truncated);
    tx.lock_time = *lock_time;
    return tx;
}

Result<Transaction, ParseError> parse_transaction(ByteSpan data) {
    if (data.size() > kMaxTxBytes) return fail(ParseError::too_large);
    ByteReader in(data);
    auto tx = read_transaction(in);
    if (!tx) return fail(tx.error());
    if (!in.at_end()) return fail(ParseError::trailing_bytes);
    return tx;
}

Hash256 txid(const Transaction& tx) { return sha256d(serialize_transaction_without_witness(tx)); }

Hash256 wtxid(const Transaction& tx) { return sha256d(serialize_transaction(tx)); }

std::size_t transaction_weight(const Transaction& tx) {
    const std::size_t base = serialize_transaction_without_witness(tx).size();
    const std::size_t total = serialize_transaction(tx).size();
    return base * (kWitnessScaleFactor - 1) + total;
}

std::size_t transaction_vsize(const Transaction& tx) {
    return (transaction_weight(tx) + kWitnessScaleFactor - 1) / kWitnessScaleFactor;
}

}  // namespace satload::chain
