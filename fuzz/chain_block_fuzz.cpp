// Fuzzes the raw block parser (what `getblock <hash> 0` returns): no crash; an accepted block
// re-serializes to exactly the input bytes, its header alone parses to the same header with
// the same hash, and the merkle root is computable for its transactions.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chain/block.h"

namespace chain = satload::chain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const satload::ByteSpan input(data, size);
    const auto block = chain::parse_block(input);
    if (!block) return 0;
    if (block->transactions.empty() || block->transactions.size() > chain::kMaxBlockTransactions) {
        std::abort();
    }
    const satload::Bytes again = chain::serialize_block(*block);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    const auto header = chain::parse_block_header(input.first(chain::kBlockHeaderBytes));
    if (!header || !(*header == block->header)) std::abort();
    if (chain::block_hash(*header) != chain::block_hash(block->header)) std::abort();
    (void)chain::merkle_root(block->transactions);
    return 0;
}
