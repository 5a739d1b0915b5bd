// Pins down the block codec: the genesis block parses, hashes to its famous hash and
// re-serializes byte for byte with its merkle root matching the header; a block with a segwit
// transaction round-trips; the merkle root follows Bitcoin's odd-level rule; every refusal
// (empty, truncated, trailing, counts past the limit) is named.
#include "chain/block.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

constexpr std::string_view kGenesisHeader =
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27a"
    "c72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
constexpr std::string_view kGenesisCoinbase =
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff00"
    "1d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b"
    "206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a0100000043410467"
    "8afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec1"
    "12de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
constexpr std::string_view kBip143Signed =
    "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f000000004948"
    "30450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3"
    "f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3a"
    "a89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df3"
    "78db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f016"
    "7faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a"
    "0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368d"
    "a1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000";

Bytes genesis_block() {
    Bytes b = unhex(kGenesisHeader);
    b.push_back(1);
    const Bytes tx = unhex(kGenesisCoinbase);
    b.insert(b.end(), tx.begin(), tx.end());
    return b;
}

// The genesis block: hash, header fields, one transaction whose txid is the merkle root.
TEST(Block, Genesis) {
    const Bytes raw = genesis_block();
    const auto block = parse_block(raw);
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(serialize_block(*block), raw);
    EXPECT_EQ(hash_to_display_hex(block_hash(block->header)),
              "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    EXPECT_EQ(block->header.version, 1u);
    EXPECT_EQ(block->header.previous_block, Hash256{});
    EXPECT_EQ(block->header.time, 1231006505u);
    EXPECT_EQ(block->header.bits, 0x1d00ffffu);
    EXPECT_EQ(block->header.nonce, 2083236893u);
    ASSERT_EQ(block->transactions.size(), 1u);
    EXPECT_EQ(merkle_root(block->transactions), block->header.merkle_root);
    const auto header = parse_block_header(unhex(kGenesisHeader));
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(*header, block->header);
    EXPECT_EQ(hex(serialize_block_header(*header)), kGenesisHeader);
}

// A block carrying a segwit transaction keeps its witnesses through a round trip.
TEST(Block, SegwitTransactionRoundTrips) {
    Bytes raw = unhex(kGenesisHeader);
    raw.push_back(2);
    for (const std::string_view t : {kGenesisCoinbase, kBip143Signed}) {
        const Bytes tx = unhex(t);
        raw.insert(raw.end(), tx.begin(), tx.end());
    }
    const auto block = parse_block(raw);
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(serialize_block(*block), raw);
    EXPECT_TRUE(block->transactions[1].has_witness());
}

// The merkle root: pairs hashed with SHA-256d, an odd level's last hash paired with itself.
TEST(Block, MerkleRootOddLevels) {
    const Transaction a = parse_transaction(unhex(kGenesisCoinbase)).value();
    const Transaction b = parse_transaction(unhex(kBip143Signed)).value();
    Transaction c = a;
    c.lock_time = 1;
    auto pair = [](const Hash256& x, const Hash256& y) {
        Bytes both(x.begin(), x.end());
        both.insert(both.end(), y.begin(), y.end());
        return sha256d(both);
    };
    EXPECT_EQ(merkle_root({a}), txid(a));
    EXPECT_EQ(merkle_root({a, b}), pair(txid(a), txid(b)));
    const Hash256 ab = pair(txid(a), txid(b));
    const Hash256 cc = pair(txid(c), txid(c));
    EXPECT_EQ(merkle_root({a, b, c}), pair(ab, cc));
}

// Refusals: no transactions, a count past the limit or past what the data holds, a bad
// transaction inside, every proper prefix, trailing bytes, an over-long input.
TEST(Block, Refusals) {
    Bytes empty = unhex(kGenesisHeader);
    empty.push_back(0);
    EXPECT_EQ(parse_block(empty).error(), ParseError::no_transactions);

    Bytes many = unhex(kGenesisHeader);
    static_assert(kMaxBlockTransactions + 1 <= 0xffff);  // a 3-byte CompactSize
    const auto n = static_cast<std::uint16_t>(kMaxBlockTransactions + 1);
    many.push_back(0xfd);
    many.push_back(static_cast<std::uint8_t>(n));
    many.push_back(static_cast<std::uint8_t>(n >> 8));
    EXPECT_EQ(parse_block(many).error(), ParseError::too_many_transactions);

    Bytes unheld = unhex(kGenesisHeader);
    unheld.push_back(2);
    const Bytes tx = unhex(kGenesisCoinbase);
    unheld.insert(unheld.end(), tx.begin(), tx.end());
    EXPECT_EQ(parse_block(unheld).error(), ParseError::truncated);

    const Bytes raw = genesis_block();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const auto r = parse_block(ByteSpan(raw.data(), i));
        ASSERT_FALSE(r.has_value()) << i;
        EXPECT_EQ(r.error(), ParseError::truncated) << i;
    }
    Bytes trailing = raw;
    trailing.push_back(0);
    EXPECT_EQ(parse_block(trailing).error(), ParseError::trailing_bytes);

    Bytes bad_amount = raw;
    // The coinbase's output value sits 8 bytes before its 0x43 script length; make it -1.
    const std::size_t value_at = raw.size() - 4 - 0x43 - 1 - 8;
    std::fill(bad_amount.begin() + static_cast<std::ptrdiff_t>(value_at),
              bad_amount.begin() + static_cast<std::ptrdiff_t>(value_at + 8), 0xff);
    EXPECT_EQ(parse_block(bad_amount).error(), ParseError::amount_out_of_range);

    EXPECT_EQ(parse_block(Bytes(kMaxBlockBytes + 1, 0)).error(), ParseError::too_large);
    EXPECT_EQ(parse_block_header(ByteSpan(raw.data(), 79)).error(), ParseError::truncated);
    EXPECT_EQ(parse_block_header(ByteSpan(raw.data(), 81)).error(), ParseError::trailing_bytes);
}

}  // namespace
}  // namespace satload::chain
