// Pins down the transaction codec: known transactions (the genesis coinbase, BIP143's signed
// segwit example) parse and re-serialize byte for byte with their txid, wtxid, weight and
// vsize; every proper prefix is refused as truncated; each ParseError is reached by a crafted
// input, at and past each limit.
#include "chain/transaction.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace transaction_test {

using test::hex;
using test::unhex;

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

ParseError parse_fails(const Bytes& data) {
    const auto tx = parse_transaction(data);
    EXPECT_FALSE(tx.has_value());
    return tx ? ParseError::trailing_bytes : tx.error();
}

// The genesis block's coinbase: a legacy transaction with the famous txid; no witness, so the
// wtxid equals the txid and the weight is four times the size.
TEST(Transaction, GenesisCoinbase) {
    const Bytes raw = unhex(kGenesisCoinbase);
    const auto tx = parse_transaction(raw);
    ASSERT_TRUE(tx.has_value());
    EXPECT_EQ(serialize_transaction(*tx), raw);
    EXPECT_FALSE(tx->has_witness());
    EXPECT_EQ(hash_to_display_hex(txid(*tx)),
              "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
    EXPECT_EQ(wtxid(*tx), txid(*tx));
    ASSERT_EQ(tx->outputs.size(), 1u);
    EXPECT_EQ(tx->outputs[0].value_sat, 50 * kSatPerBtc);
    EXPECT_EQ(transaction_weight(*tx), raw.size() * 4);
}

// BIP143's signed P2WPKH example: segwit form, two inputs (one legacy, one with a witness).
// txid, wtxid, weight and vsize as bitcoinjs-lib 7.0.5 computes them.
TEST(Transaction, SegwitRoundTrip) {
    const Bytes raw = unhex(kBip143Signed);
    const auto tx = parse_transaction(raw);
    ASSERT_TRUE(tx.has_value());
    EXPECT_EQ(serialize_transaction(*tx), raw);
    EXPECT_TRUE(tx->has_witness());
    EXPECT_EQ(tx->version, 1u);
    EXPECT_EQ(tx->lock_time, 17u);
    ASSERT_EQ(tx->inputs.size(), 2u);
    EXPECT_TRUE(tx->inputs[0].witness.empty());
    EXPECT_EQ(tx->inputs[0].sequence, 0xffffffeeu);
    EXPECT_EQ(tx->inputs[1].witness.size(), 2u);
    EXPECT_EQ(tx->outputs[0].value_sat, 112'340'000);
    EXPECT_EQ(tx->outputs[1].value_sat, 223'450'000);
    EXPECT_EQ(hash_to_display_hex(txid(*tx)),
              "e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609");
    EXPECT_EQ(hash_to_display_hex(wtxid(*tx)),
              "c36c38370907df2324d9ce9d149d191192f338b37665a82e78e76a12c909b762");
    EXPECT_EQ(transaction_weight(*tx), 1042u);
    EXPECT_EQ(transaction_vsize(*tx), 261u);
    // Without witnesses it is the legacy form, which parses back too.
    const auto legacy = parse_transaction(serialize_transaction_without_witness(*tx));
    ASSERT_TRUE(legacy.has_value());
    EXPECT_EQ(txid(*legacy), txid(*tx));
}

// Every proper prefix of both transactions is refused, and as truncated.
TEST(Transaction, EveryPrefixIsTruncated) {
    for (const std::string_view text : {kGenesisCoinbase, kBip143Signed}) {
        const Bytes raw = unhex(text);
        for (std::size_t n = 0; n < raw.size(); ++n) {
            EXPECT_EQ(parse_fails(Bytes(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n))),
                      ParseError::truncated)
                << n;
        }
        Bytes longer = raw;
        longer.push_back(0);
        EXPECT_EQ(parse_fails(longer), ParseError::trailing_bytes);
    }
}

// Builds a legacy transaction around the given input count, output count and fields.
struct Raw {
    Bytes bytes;
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    // A canonical CompactSize.
    void compact(std::uint64_t n) {
        if (n < 0xfd) {
            bytes.push_back(static_cast<std::uint8_t>(n));
        } else if (n <= 0xffff) {
            bytes.push_back(0xfd);
            bytes.push_back(static_cast<std::uint8_t>(n));
            bytes.push_back(static_cast<std::uint8_t>(n >> 8));
        } else {
            bytes.push_back(0xfe);
            u32(static_cast<std::uint32_t>(n));
        }
    }
    void raw(std::string_view h) {
        const Bytes b = unhex(h);
        bytes.insert(bytes.end(), b.begin(), b.end());
    }
    void input() {
        bytes.insert(bytes.end(), 36, 0x11);  // outpoint
        bytes.push_back(0);                   // empty scriptSig
        u32(0xffffffff);
    }
    void output(std::uint64_t value) {
        u64(value);
        raw("0100");  // a one-byte script: OP_0
    }
};

// Each structural refusal by name.
TEST(Transaction, StructuralRefusals) {
    {  // Non-canonical input count: 1 written as fd 01 00.
        Raw r;
        r.u32(2);
        r.raw("fd0100");
        r.input();
        r.raw("01");
        r.output(1);
        r.u32(0);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::non_canonical_size);
    }
    {  // Segwit marker with an unknown flag.
        Raw r;
        r.u32(2);
        r.raw("0002");
        r.raw("01");
        r.input();
        r.raw("01");
        r.output(1);
        r.u32(0);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::bad_segwit_flag);
    }
    {  // Segwit form with no inputs.
        Raw r;
        r.u32(2);
        r.raw("000100");
        r.raw("01");
        r.output(1);
        r.u32(0);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::no_inputs);
    }
    {  // No outputs.
        Raw r;
        r.u32(2);
        r.raw("01");
        r.input();
        r.raw("00");
        r.u32(0);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::no_outputs);
    }
    {  // Segwit form whose only witness is empty: the legacy form is the one to use.
        Raw r;
        r.u32(2);
        r.raw("0001");
        r.raw("01");
        r.input();
        r.raw("01");
        r.output(1);
        r.raw("00");
        r.u32(0);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::superfluous_witness);
        // With one empty item in the witness stack it is a real witness and round-trips.
        Raw w;
        w.u32(2);
        w.raw("0001");
        w.raw("01");
        w.input();
        w.raw("01");
        w.output(1);
        w.raw("0100");
        w.u32(0);
        const auto tx = parse_transaction(w.bytes);
        ASSERT_TRUE(tx.has_value());
        EXPECT_EQ(serialize_transaction(*tx), w.bytes);
    }
}

// Amounts: up to 21 million BTC per output and in sum; above, or "negative", is refused.
TEST(Transaction, AmountLimits) {
    auto with_outputs = [](std::initializer_list<std::uint64_t> values) {
        Raw r;
        r.u32(2);
        r.raw("01");
        r.input();
        r.bytes.push_back(static_cast<std::uint8_t>(values.size()));
        for (const std::uint64_t v : values) r.output(v);
        r.u32(0);
        return r.bytes;
    };
    const auto max = static_cast<std::uint64_t>(kMaxMoneySat);
    EXPECT_TRUE(parse_transaction(with_outputs({max})).has_value());
    EXPECT_EQ(parse_fails(with_outputs({max + 1})), ParseError::amount_out_of_range);
    EXPECT_EQ(parse_fails(with_outputs({~0ull})), ParseError::amount_out_of_range);  // -1
    EXPECT_TRUE(parse_transaction(with_outputs({max - 1, 1})).has_value());
    EXPECT_EQ(parse_fails(with_outputs({max, 1})), ParseError::amount_out_of_range);
}

// Limits: counts and lengths one past each limit are refused by name, before any memory is
// reserved for them; counts the data cannot hold are truncated; the whole input is bounded.
TEST(Transaction, Limits) {
    auto count_prefix = [](std::size_t n) {
        Raw r;
        r.u32(2);
        r.compact(n);
        return r;
    };
    EXPECT_EQ(parse_fails(count_prefix(kMaxTxInputs + 1).bytes), ParseError::too_many_inputs);
    EXPECT_EQ(parse_fails(count_prefix(kMaxTxInputs).bytes), ParseError::truncated);
    {
        Raw r;
        r.u32(2);
        r.raw("01");
        r.input();
        r.compact(kMaxTxOutputs + 1);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::too_many_outputs);
    }
    {  // scriptSig one byte over.
        Raw r;
        r.u32(2);
        r.raw("01");
        r.bytes.insert(r.bytes.end(), 36, 0);
        r.compact(kMaxScriptBytes + 1);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::script_too_large);
    }
    {  // A CompactSize above Bitcoin Core's MAX_SIZE is over our limit too.
        Raw r;
        r.u32(2);
        r.raw("ff");
        r.u64(1ull << 40);
        EXPECT_EQ(parse_fails(r.bytes), ParseError::too_many_inputs);
    }
    auto witness_prefix = [](std::string_view count_and_more) {
        Raw r;
        r.u32(2);
        r.raw("0001");
        r.raw("01");
        r.input();
        r.raw("01");
        r.output(1);
        r.raw(count_and_more);
        return r.bytes;
    };
    Raw items;
    items.compact(kMaxWitnessItems + 1);
    EXPECT_EQ(parse_fails(witness_prefix(hex(items.bytes))), ParseError::too_many_witness_items);
    Raw item;
    item.raw("01");
    item.compact(kMaxWitnessItemBytes + 1);
    EXPECT_EQ(parse_fails(witness_prefix(hex(item.bytes))), ParseError::witness_item_too_large);

    EXPECT_EQ(parse_fails(Bytes(kMaxTxBytes + 1, 0)), ParseError::too_large);
}

}  // namespace transaction_test
}  // namespace
}  // namespace satload::chain
