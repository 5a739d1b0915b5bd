// Block (de)serialization and the transaction merkle root.
#include "chain/block.h"

#include <algorithm>

#include "chain/serialize.h"
#include "core/check.h"

namespace satload::chain {
namespace {

Result<BlockHeader, ParseError> read_header(ByteReader& in) {
    BlockHeader h;
    const auto version = in.u32();
    const auto prev = in.bytes(32);
    const auto merkle = in.bytes(32);
    const auto time = in.u32();
    const auto bits = in.u32();
    const auto nonce = in.u32();
    if (!version || !prev || !merkle || !time || !bits || !nonce) {
        return fail(ParseError::truncated);
    }
    h.version = *version;
    std::copy(prev->begin(), prev->end(), h.previous_block.begin());
    std::copy(merkle->begin(), merkle->end(), h.merkle_root.begin());
    h.time = *time;
    h.bits = *bits;
    h.nonce = *nonce;
    return h;
}

}  // namespace

std::array<std::uint8_t, kBlockHeaderBytes> serialize_block_header(const BlockHeader& header) {
    ByteWriter w;
    w.u32(header.version);
    w.bytes(header.previous_block);
    w.bytes(header.merkle_root);
    w.u32(header.time);
    w.u32(header.bits);
    w.u32(header.nonce);
    std::array<std::uint8_t, kBlockHeaderBytes> out{};
    SATLOAD_ASSERT(w.data().size() == out.size());
    std::copy(w.data().begin(), w.data().end(), out.begin());
    return out;
}

Result<BlockHeader, ParseError> parse_block_header(ByteSpan data) {
    ByteReader in(data);
    auto h = read_header(in);
    if (!h) return fail(h.error());
    if (!in.at_end()) return fail(ParseError::trailing_bytes);
    return h;
}

Hash256 block_hash(const BlockHeader& header) { return sha256d(serialize_block_header(header)); }

Bytes serialize_block(const Block& block) {
    ByteWriter w;
    w.bytes(serialize_block_header(block.header));
    w.compact_size(block.transactions.size());
    for (const Transaction& tx : block.transactions) write_transaction(w, tx, true);
    return w.take();
}

Result<Block, ParseError> parse_block(ByteSpan data) {
    if (data.size() > kMaxBlockBytes) return fail(ParseError::too_large);
    ByteReader in(data);
    Block block;
    auto header = read_header(in);
    if (!header) return fail(header.error());
    block.header = *header;

    const auto count = in.compact_size();
    if (count.error) {
        if (*count.error == ByteReader::CompactSizeError::too_large) {
            return fail(ParseError::too_many_transactions);
        }
        return fail(*count.error == ByteReader::CompactSizeError::truncated
                        ? ParseError::truncated
                        : ParseError::non_canonical_size);
    }
    if (count.value == 0) return fail(ParseError::no_transactions);
    if (count.value > kMaxBlockTransactions) return fail(ParseError::too_many_transactions);
    // Each transaction takes at least kMinTxBytes: refuse a count the data cannot hold before
    // reserving memory for it.
    if (count.value > in.remaining() / kMinTxBytes) return fail(ParseError::truncated);
    block.transactions.reserve(static_cast<std::size_t>(count.value));
    for (std::uint64_t i = 0; i < count.value; ++i) {
        auto tx = read_transaction(in);
        if (!tx) return fail(tx.error());
        block.transactions.push_back(std::move(*tx));
    }
    if (!in.at_end()) return fail(ParseError::trailing_bytes);
    return block;
}

Hash256 merkle_root(const std::vector<Transaction>& transactions) {
    SATLOAD_ASSERT(!transactions.empty());
    std::vector<Hash256> level;
    level.reserve(transactions.size());
    for (const Transaction& tx : transactions) level.push_back(txid(tx));
    while (level.size() > 1) {
        if (level.size() % 2 == 1) level.push_back(level.back());
        std::vector<Hash256> next;
        next.reserve(level.size() / 2);
        for (std::size_t i = 0; i < level.size(); i += 2) {
            std::array<std::uint8_t, 64> pair{};
            std::copy(level[i].begin(), level[i].end(), pair.begin());
            std::copy(level[i + 1].begin(), level[i + 1].end(), pair.begin() + 32);
            next.push_back(sha256d(pair));
        }
        level = std::move(next);
    }
    return level[0];
}

}  // namespace satload::chain
