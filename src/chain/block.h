// Raw blocks as `getblock <hash> 0` returns them: the 80-byte header and the transactions,
// parsed with the limits of transaction.h. The block hash is SHA-256d of the header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "chain/hashes.h"
#include "chain/transaction.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

inline constexpr std::size_t kBlockHeaderBytes = 80;
// Every byte of a block weighs at least one unit.
inline constexpr std::size_t kMaxBlockBytes = kMaxBlockWeight;
// The smallest transaction is 60 bytes (version, one input, one output, lock time), all of
// them non-witness bytes that weigh four units each.
inline constexpr std::size_t kMinTxBytes = 60;
inline constexpr std::size_t kMaxBlockTransactions =
    kMaxBlockWeight / (kMinTxBytes * kWitnessScaleFactor);

struct BlockHeader {
    std::uint32_t version = 0;
    Hash256 previous_block{};  // internal byte order
    Hash256 merkle_root{};
    std::uint32_t time = 0;
    std::uint32_t bits = 0;
    std::uint32_t nonce = 0;
    bool operator==(const BlockHeader&) const = default;
};

struct Block {
    BlockHeader header;
    std::vector<Transaction> transactions;
    bool operator==(const Block&) const = default;
};

[[nodiscard]] std::array<std::uint8_t, kBlockHeaderBytes> serialize_block_header(
    const BlockHeader& header);
[[nodiscard]] Result<BlockHeader, ParseError> parse_block_header(ByteSpan data);
[[nodiscard]] Hash256 block_hash(const BlockHeader& header);

[[nodiscard]] Bytes serialize_block(const Block& block);
[[nodiscard]] Result<Block, ParseError> parse_block(ByteSpan data);

// The merkle root of the transactions' txids (the last hash of an odd level is paired with
// itself). parse_block does not check it against the header: a caller that must know the
// transactions are the block's (the chain watcher) compares it.
[[nodiscard]] Hash256 merkle_root(const std::vector<Transaction>& transactions);

}  // namespace satload::chain
