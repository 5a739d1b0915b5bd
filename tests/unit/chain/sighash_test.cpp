// Pins down BIP143 with the BIP's worked examples: the native P2WPKH example (sighash, the
// RFC 6979 signature byte for byte, and the whole signed transaction), the P2SH-P2WPKH
// example's sighash and signature, and the native P2WSH example's SIGHASH_SINGLE digests
// (including the out-of-range output); then sign_p2wpkh_spend's checks of amounts.
#include "chain/sighash.h"

#include <gtest/gtest.h>

#include "chain/address.h"
#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

constexpr std::string_view kUnsignedP2wpkh =
    "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffff"
    "ef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206"
    "000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42db"
    "ee7e4dbe6a21b2d50ce2f0167faa815988ac11000000";

constexpr std::string_view kSignedP2wpkh =
    "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f000000004948"
    "30450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3"
    "f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3a"
    "a89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df3"
    "78db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f016"
    "7faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a"
    "0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368d"
    "a1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000";

PrivateKey key_of(std::string_view hex_key) {
    auto key = PrivateKey::from_bytes(unhex(hex_key));
    EXPECT_TRUE(key.has_value());
    return *key;
}

// BIP143 "Native P2WPKH": the second input's digest and signature are the published ones, and
// with the first input's published P2PK signature the result is the published transaction.
TEST(Bip143, NativeP2wpkhExample) {
    auto tx = parse_transaction(unhex(kUnsignedP2wpkh));
    ASSERT_TRUE(tx.has_value());
    const PrivateKey key =
        key_of("619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9");
    EXPECT_EQ(hex(key.public_key().bytes()),
              "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357");
    const Bytes code = p2wpkh_script_code(hash160(key.public_key().bytes()));
    EXPECT_EQ(hex(code), "76a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac");
    const std::int64_t amount_sat = 600'000'000;  // 6 BTC
    const Hash256 digest = bip143_sighash(*tx, 1, code, amount_sat, kSighashAll);
    EXPECT_EQ(hex(digest), "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670");
    EXPECT_EQ(hex(key.sign_der(digest)),
              "304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c"
              "4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee");

    sign_p2wpkh_input(*tx, 1, key, amount_sat);
    tx->inputs[0].script_sig = unhex(
        "4830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b19"
        "4ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01");
    EXPECT_EQ(hex(serialize_transaction(*tx)), kSignedP2wpkh);
    const Bytes& with_type = tx->inputs[1].witness[0];
    ASSERT_FALSE(with_type.empty());
    EXPECT_EQ(with_type.back(), kSighashAll);
    EXPECT_TRUE(key.public_key().verify(digest, ByteSpan(with_type).first(with_type.size() - 1)));
}

// BIP143 "P2SH-P2WPKH": the digest and the signature (the scriptCode is the same P2PKH form).
TEST(Bip143, P2shP2wpkhExample) {
    const auto tx = parse_transaction(unhex(
        "0100000001db6b1b20aa0fd7b23880be2ecbd4a98130974cf4748fb66092ac4d3ceb1a54770100000000feff"
        "ffff02b8b4eb0b000000001976a914a457b684d7f0d539a46a45bbc043f35b59d0d96388ac0008af2f000000"
        "001976a914fd270b1ee6abcaea97fea7ad0402e8bd8ad6d77c88ac92040000"));
    ASSERT_TRUE(tx.has_value());
    const PrivateKey key =
        key_of("eb696a065ef48a2192da5b28b694f87544b30fae8327c4510137a922f32c6dcf");
    EXPECT_EQ(hex(key.public_key().bytes()),
              "03ad1d8e89212f0b92c74d23bb710c00662ad1470198ac48c43f7d6f93a2a26873");
    const Bytes code = p2wpkh_script_code(hash160(key.public_key().bytes()));
    const Hash256 digest = bip143_sighash(*tx, 0, code, 1'000'000'000, kSighashAll);
    EXPECT_EQ(hex(digest), "64f3b0f4dd2bb3aa1ce8566d220cc74dda9df97d8490cc81d89d735c92e59fb6");
    EXPECT_EQ(hex(key.sign_der(digest)),
              "3044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288e5d794d12d482f0220217f36a4"
              "85cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb");
}

// BIP143 "Native P2WSH": SIGHASH_SINGLE for the second input when there is only one output
// hashes zeros for the outputs; two scriptCodes give the two published digests.
TEST(Bip143, SighashSingleOutOfRange) {
    const auto tx = parse_transaction(unhex(
        "0100000002fe3dc9208094f3ffd12645477b3dc56f60ec4fa8e6f5d67c565d1c6b9216b36e0000000000ffff"
        "ffff0815cf020f013ed6cf91d29f4202e8a58726b1ac6c79da47c23d1bee0a6925f80000000000ffffffff01"
        "00f2052a010000001976a914a30741f8145e5acadf23f751864167f32e0963f788ac00000000"));
    ASSERT_TRUE(tx.has_value());
    const std::int64_t amount_sat = 4'900'000'000;  // 49 BTC
    EXPECT_EQ(hex(bip143_sighash(*tx, 1,
                                 unhex("21026dccc749adc2a9d0d89497ac511f760f45c47dc5ed9cf352a58ac7"
                                       "06453880aeadab210255a9626aebf5e29c0e6538428ba0d1dcf6ca98ff"
                                       "df086aa8ced5e0d0215ea465ac"),
                                 amount_sat, kSighashSingle)),
              "82dde6e4f1e94d02c2b7ad03d2115d691f48d064e9d52f58194a6637e4194391");
    EXPECT_EQ(
        hex(bip143_sighash(
            *tx, 1, unhex("210255a9626aebf5e29c0e6538428ba0d1dcf6ca98ffdf086aa8ced5e0d0215ea465ac"),
            amount_sat, kSighashSingle)),
        "fef7bd749cce710c5c052bd796df1af0d935e59cea63736268bcbe2d2134fc47");
}

// The digest commits to everything SIGHASH_ALL covers: changing the amount, an output, the
// lock time, another input's sequence or the hash type changes it; the witness does not.
TEST(Bip143, DigestCoversWhatItShould) {
    const auto tx = parse_transaction(unhex(kUnsignedP2wpkh)).value();
    const Bytes code = unhex("76a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac");
    const Hash256 base = bip143_sighash(tx, 1, code, 600'000'000, kSighashAll);
    EXPECT_NE(bip143_sighash(tx, 1, code, 600'000'001, kSighashAll), base);
    auto t = tx;
    t.outputs[1].value_sat += 1;
    EXPECT_NE(bip143_sighash(t, 1, code, 600'000'000, kSighashAll), base);
    t = tx;
    t.lock_time += 1;
    EXPECT_NE(bip143_sighash(t, 1, code, 600'000'000, kSighashAll), base);
    t = tx;
    t.inputs[0].sequence ^= 1;
    EXPECT_NE(bip143_sighash(t, 1, code, 600'000'000, kSighashAll), base);
    EXPECT_NE(bip143_sighash(tx, 1, code, 600'000'000, kSighashAll | kSighashAnyoneCanPay), base);
    t = tx;
    t.inputs[0].witness = {Bytes{1, 2, 3}};
    EXPECT_EQ(bip143_sighash(t, 1, code, 600'000'000, kSighashAll), base);
    // ANYONECANPAY ignores the other inputs; NONE ignores the outputs.
    t = tx;
    t.inputs[0].sequence ^= 1;
    EXPECT_EQ(bip143_sighash(t, 1, code, 600'000'000, kSighashAll | kSighashAnyoneCanPay),
              bip143_sighash(tx, 1, code, 600'000'000, kSighashAll | kSighashAnyoneCanPay));
    t = tx;
    t.outputs[0].value_sat += 1;
    EXPECT_EQ(bip143_sighash(t, 1, code, 600'000'000, kSighashNone),
              bip143_sighash(tx, 1, code, 600'000'000, kSighashNone));
}

P2wpkhCoin coin(std::uint8_t tag, std::int64_t value_sat, const PrivateKey& key) {
    P2wpkhCoin c{OutPoint{}, value_sat, key, kSequenceRbf};
    c.prevout.txid.fill(tag);
    c.prevout.vout = tag;
    return c;
}

// A spend of two coins: every input carries <signature||01> <public key>, each signature
// verifies against its BIP143 digest, the scripts stay empty, and the fee is what is left.
TEST(SignP2wpkhSpend, SignsEveryInput) {
    const PrivateKey k1 =
        key_of("0000000000000000000000000000000000000000000000000000000000000001");
    const PrivateKey k2 =
        key_of("619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9");
    const P2wpkhCoin coins[] = {coin(1, 50'000, k1), coin(2, 70'000, k2)};
    const TxOut outputs[] = {
        {100'000, witness_script_pubkey(p2wpkh_program(k1.public_key()))},
        {19'000, witness_script_pubkey(p2wpkh_program(k2.public_key()))},
    };
    const auto tx = sign_p2wpkh_spend(coins, outputs, 2, 0);
    ASSERT_TRUE(tx.has_value());
    EXPECT_EQ(tx->version, 2u);
    ASSERT_EQ(tx->inputs.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const TxIn& in = tx->inputs[i];
        EXPECT_TRUE(in.script_sig.empty());
        EXPECT_EQ(in.sequence, kSequenceRbf);
        ASSERT_EQ(in.witness.size(), 2u);
        EXPECT_EQ(in.witness[0].back(), kSighashAll);
        const PublicKey pub = coins[i].key.public_key();
        EXPECT_EQ(in.witness[1], Bytes(pub.bytes().begin(), pub.bytes().end()));
        const Hash256 digest = bip143_sighash(*tx, i, p2wpkh_script_code(hash160(pub.bytes())),
                                              coins[i].value_sat, kSighashAll);
        const ByteSpan der(in.witness[0].data(), in.witness[0].size() - 1);
        EXPECT_TRUE(pub.verify(digest, der));
        // The other key's signature does not verify.
        EXPECT_FALSE(coins[1 - i].key.public_key().verify(digest, der));
    }
    // What it signed parses back to itself.
    const auto again = parse_transaction(serialize_transaction(*tx));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *tx);
}

// Amount and shape checks: nothing to spend, nothing to pay, amounts out of range, outputs
// above inputs, the same coin twice.
TEST(SignP2wpkhSpend, Refusals) {
    const PrivateKey k = key_of("0000000000000000000000000000000000000000000000000000000000000002");
    const P2wpkhCoin one[] = {coin(1, 10'000, k)};
    const TxOut pay[] = {{9'000, witness_script_pubkey(p2wpkh_program(k.public_key()))}};
    EXPECT_EQ(sign_p2wpkh_spend({}, pay, 2, 0).error(), SignError::no_inputs);
    EXPECT_EQ(sign_p2wpkh_spend(one, {}, 2, 0).error(), SignError::no_outputs);
    const TxOut too_much[] = {{10'001, pay[0].script_pubkey}};
    EXPECT_EQ(sign_p2wpkh_spend(one, too_much, 2, 0).error(), SignError::outputs_exceed_inputs);
    const TxOut exact[] = {{10'000, pay[0].script_pubkey}};
    EXPECT_TRUE(sign_p2wpkh_spend(one, exact, 2, 0).has_value());  // zero fee is the caller's call
    const TxOut negative[] = {{-1, pay[0].script_pubkey}};
    EXPECT_EQ(sign_p2wpkh_spend(one, negative, 2, 0).error(), SignError::amount_out_of_range);
    const P2wpkhCoin zero[] = {coin(1, 0, k)};
    EXPECT_EQ(sign_p2wpkh_spend(zero, pay, 2, 0).error(), SignError::amount_out_of_range);
    const P2wpkhCoin huge[] = {coin(1, kMaxMoneySat, k), coin(2, 1, k)};
    EXPECT_EQ(sign_p2wpkh_spend(huge, pay, 2, 0).error(), SignError::amount_out_of_range);
    const TxOut huge_out[] = {{kMaxMoneySat, pay[0].script_pubkey}, {1, pay[0].script_pubkey}};
    const P2wpkhCoin max[] = {coin(1, kMaxMoneySat, k)};
    EXPECT_EQ(sign_p2wpkh_spend(max, huge_out, 2, 0).error(), SignError::amount_out_of_range);
    const P2wpkhCoin twice[] = {coin(1, 10'000, k), coin(1, 10'000, k)};
    EXPECT_EQ(sign_p2wpkh_spend(twice, pay, 2, 0).error(), SignError::duplicate_input);
}

}  // namespace
}  // namespace satload::chain
