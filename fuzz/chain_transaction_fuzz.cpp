// Fuzzes the raw transaction parser: no crash; an accepted transaction is within every limit
// and re-serializes to exactly the input bytes; its legacy form parses back to the same txid;
// weight and vsize are consistent with the sizes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chain/transaction.h"

namespace chain = satload::chain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const satload::ByteSpan input(data, size);
    const auto tx = chain::parse_transaction(input);
    if (!tx) return 0;

    if (tx->inputs.empty() || tx->inputs.size() > chain::kMaxTxInputs) std::abort();
    if (tx->outputs.empty() || tx->outputs.size() > chain::kMaxTxOutputs) std::abort();
    std::int64_t total = 0;
    for (const chain::TxOut& o : tx->outputs) {
        if (o.value_sat < 0 || o.value_sat > chain::kMaxMoneySat) std::abort();
        total += o.value_sat;
        if (o.script_pubkey.size() > chain::kMaxScriptBytes) std::abort();
    }
    if (total > chain::kMaxMoneySat) std::abort();

    const satload::Bytes again = chain::serialize_transaction(*tx);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();

    const satload::Bytes legacy = chain::serialize_transaction_without_witness(*tx);
    const auto stripped = chain::parse_transaction(legacy);
    if (!stripped || chain::txid(*stripped) != chain::txid(*tx)) std::abort();
    if (stripped->has_witness()) std::abort();
    if (!tx->has_witness() && chain::wtxid(*tx) != chain::txid(*tx)) std::abort();

    const std::size_t weight = chain::transaction_weight(*tx);
    if (weight != legacy.size() * 3 + size) std::abort();
    if (chain::transaction_vsize(*tx) * 4 < weight) std::abort();
    return 0;
}
