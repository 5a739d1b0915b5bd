// Pins down BIP32 with the BIP's test vectors 1 to 5 (every chain's xprv and xpub; every
// vector-5 key refused for its stated reason), public derivation agreeing with private
// derivation, path parsing with named errors, and BIP84's test vectors (root zprv, account
// zprv/zpub, the first receive and change keys: WIF, public key, address).
#include "chain/bip32.h"

#include <gtest/gtest.h>

#include "chain/address.h"
#include "chain/bip39.h"
#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

const ExtendedKeyVersions& xversions() { return network_params(Network::main).bip32; }

struct Chain {
    std::string_view path;
    std::string_view xpub;
    std::string_view xprv;
};

void check_vector(std::string_view seed_hex, std::initializer_list<Chain> chains) {
    const auto master = master_key_from_seed(unhex(seed_hex));
    ASSERT_TRUE(master.has_value());
    for (const Chain& c : chains) {
        const auto path = parse_path(c.path);
        ASSERT_TRUE(path.has_value()) << c.path;
        const auto key = derive_path(*master, *path);
        ASSERT_TRUE(key.has_value()) << c.path;
        EXPECT_EQ(encode_extended_private(*key, xversions()), c.xprv) << c.path;
        EXPECT_EQ(encode_extended_public(*key, xversions()), c.xpub) << c.path;

        // Both texts decode back to the same node, and re-encode to themselves.
        const auto prv = decode_extended_key(c.xprv);
        ASSERT_TRUE(prv.has_value()) << c.xprv;
        EXPECT_TRUE(prv->key.is_private());
        EXPECT_EQ(prv->network, Network::main);
        EXPECT_FALSE(prv->bip84);
        EXPECT_EQ(encode_extended_private(prv->key, xversions()), c.xprv);
        const auto pub = decode_extended_key(c.xpub);
        ASSERT_TRUE(pub.has_value()) << c.xpub;
        EXPECT_FALSE(pub->key.is_private());
        EXPECT_EQ(encode_extended_public(pub->key, xversions()), c.xpub);
        EXPECT_EQ(pub->key.public_key, key->public_key);
    }
}

// Test vector 1 (16-byte seed).
TEST(Bip32, TestVector1) {
    check_vector("000102030405060708090a0b0c0d0e0f",
                 {
                     {"m",
                      "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rup"
                      "je8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
                      "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg"
                      "6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"},
                     {"m/0'",
                      "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTF"
                      "UHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
                      "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDY"
                      "Uhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7"},
                     {"m/0'/1",
                      "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uM"
                      "ash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
                      "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboy"
                      "ZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs"},
                     {"m/0'/1/2'",
                      "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsx"
                      "xpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
                      "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4kt"
                      "ypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"},
                     {"m/0'/1/2'/2",
                      "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv"
                      "1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
                      "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzT"
                      "tdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334"},
                     {"m/0'/1/2'/2/1000000000",
                      "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHi"
                      "Ykro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
                      "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQ"
                      "jgPie1rFSruoUihUZREPSL39UNdE3BBDu76"},
                 });
}

// Test vector 2 (64-byte seed, the largest indices).
TEST(Bip32, TestVector2) {
    check_vector(
        "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b"
        "7875726f6c696663605d5a5754514e4b484542",
        {
            {"m",
             "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6m"
             "r8BDzTJY47LJhkJ8UB7WEGuduB",
             "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqP"
             "qm55Qn3LqFtT2emdEXVYsCzC2U"},
            {"m/0",
             "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDzne"
             "zpbZb7ap6r1D3tgFxHmwMkQTPH",
             "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex"
             "8G81dwSM1fwqWpWkeS3v86pgKt"},
            {"m/0/2147483647'",
             "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8R"
             "uJiHjaDMBU4Zn9h8LZNnBC5y4a",
             "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRg"
             "VsFawNzmjuHc2YmYRmagcEPdU9"},
            {"m/0/2147483647'/1",
             "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89L"
             "ojfZ537wTfunKau47EL2dhHKon",
             "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXaj"
             "PPdbRCHuWS6T8XA2ECKADdw4Ef"},
            {"m/0/2147483647'/1/2147483646'",
             "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2"
             "grBGRjaDMzQLcgJvLJuZZvRcEL",
             "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxF"
             "LJ8HFsTjSyQbLYnMpCqE2VbFWc"},
            {"m/0/2147483647'/1/2147483646'/2",
             "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2r"
             "nY5agb9rXpVGyy3bdW6EEgAtqt",
             "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTy"
             "efMLEcBYJUuekgW4BYPJcr9E7j"},
        });
}

// Test vector 3: leading zeros of private keys are kept.
TEST(Bip32, TestVector3) {
    check_vector(
        "4b381541583be4423346c643850da4b320e46a87ae3d2a4e6da11eba819cd4acba45d239319ac14f863b8d5ab5"
        "a0d0c64d2e8a1e7d1457df2e5a3c51c73235be",
        {
            {"m",
             "xpub661MyMwAqRbcEZVB4dScxMAdx6d4nFc9nvyvH3v4gJL378CSRZiYmhRoP7mBy6gSPSCYk6SzXPTf3ND1c"
             "ZAceL7SfJ1Z3GC8vBgp2epUt13",
             "xprv9s21ZrQH143K25QhxbucbDDuQ4naNntJRi4KUfWT7xo4EKsHt2QJDu7KXp1A3u7Bi1j8ph3EGsZ9Xvz9d"
             "GuVrtHHs7pXeTzjuxBrCmmhgC6"},
            {"m/0'",
             "xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MY"
             "o6oDaPPLPxSb7gwQN3ih19Zm4Y",
             "xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJC"
             "VVFceUvJFjaPdGZ2y9WACViL4L"},
        });
}

// Test vector 4: leading zeros again, through hardened derivation of a 32-byte seed.
TEST(Bip32, TestVector4) {
    check_vector("3ddd5602285899a946114506157c7997e5444528f3003f6134712147db19b678",
                 {
                     {"m",
                      "xpub661MyMwAqRbcGczjuMoRm6dXaLDEhW1u34gKenbeYqAix21mdUKJyuyu5F1rzYGVxyL6tmgB"
                      "UAEPrEz92mBXjByMRiJdba9wpnN37RLLAXa",
                      "xprv9s21ZrQH143K48vGoLGRPxgo2JNkJ3J3fqkirQC2zVdk5Dgd5w14S7fRDyHH4dWNHUgkvsvN"
                      "DCkvAwcSHNAQwhwgNMgZhLtQC63zxwhQmRv"},
                     {"m/0'",
                      "xpub69AUMk3qDBi3uW1sXgjCmVjJ2G6WQoYSnNHyzkmdCHEhSZ4tBok37xfFEqHd2AddP56Tqp4o"
                      "56AePAgCjYdvpW2PU2jbUPFKsav5ut6Ch1m",
                      "xprv9vB7xEWwNp9kh1wQRfCCQMnZUEG21LpbR9NPCNN1dwhiZkjjeGRnaALmPXCX7SgjFTiCTT6b"
                      "Xes17boXtjq3xLpcDjzEuGLQBM5ohqkao9G"},
                     {"m/0'/1'",
                      "xpub6BJA1jSqiukeaesWfxe6sNK9CCGaujFFSJLomWHprUL9DePQ4JDkM5d88n49sMGJxrhpjazu"
                      "XYWdMf17C9T5XnxkopaeS7jGk1GyyVziaMt",
                      "xprv9xJocDuwtYCMNAo3Zw76WENQeAS6WGXQ55RCy7tDJ8oALr4FWkuVoHJeHVAcAqiZLE7Je3vZ"
                      "JHxspZdFHfnBEjHqU5hG1Jaj32dVoS6XLT1"},
                 });
}

// Test vector 5: every invalid extended key is refused, for the reason the BIP gives.
TEST(Bip32, TestVector5) {
    struct Invalid {
        std::string_view text;
        Bip32Error error;
    };
    constexpr Invalid kCases[] = {
        {"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6LBpB85b3D2yc8sfvZU521AAwdZaf"
         "Ez7mnzBBsz4wKY5fTtTQBm",
         Bip32Error::public_version_with_private_key},
        {"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGTQQD3dC4H2D5GBj7vWvSQaaBv5c"
         "xi9gafk7NF3pnBju6dwKvH",
         Bip32Error::private_version_with_public_key},
        {"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Txnt3siSujt9RCVYsx4qHZGc62TG"
         "4McvMGcAUjeuwZdduYEvFn",
         Bip32Error::bad_public_key},  // prefix 04
        {"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGpWnsj83BHtEy5Zt8CcDr1UiRXuW"
         "CmTQLxEK9vbz5gPstX92JQ",
         Bip32Error::bad_private_key_prefix},  // prefix 04
        {"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6N8ZMMXctdiCjxTNq964yKkwrkBJJ"
         "wpzZS4HS2fxvyYUA4q2Xe4",
         Bip32Error::bad_public_key},  // prefix 01
        {"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD9y5gkZ"
         "6Eq3Rjuahrv17fEQ3Qen6J",
         Bip32Error::bad_private_key_prefix},  // prefix 01
        {"xprv9s2SPatNQ9Vc6GTbVMFPFo7jsaZySyzk7L8n2uqKXJen3KUmvQNTuLh3fhZMBoG3G4ZW1N2kZuHEPY53qmbZz"
         "CHshoQnNf4GvELZfqTUrcv",
         Bip32Error::zero_depth_with_parent},
        {"xpub661no6RGEX3uJkY4bNnPcw4URcQTrSibUZ4NqJEw5eBkv7ovTwgiT91XX27VbEXGENhYRCf7hyEbWrR3FewAT"
         "dCEebj6znwMfQkhRYHRLpJ",
         Bip32Error::zero_depth_with_parent},
        {"xprv9s21ZrQH4r4TsiLvyLXqM9P7k1K3EYhA1kkD6xuquB5i39AU8KF42acDyL3qsDbU9NmZn6MsGSUYZEsuoePmj"
         "zsB3eFKSUEh3Gu1N3cqVUN",
         Bip32Error::zero_depth_with_index},
        {"xpub661MyMwAuDcm6CRQ5N4qiHKrJ39Xe1R1NyfouMKTTWcguwVcfrZJaNvhpebzGerh7gucBvzEQWRugZDuDXjND"
         "RmXzSZe4c7mnTK97pTvGS8",
         Bip32Error::zero_depth_with_index},
        {"DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHGMQzT7ayAmfo4z3gY5KfbrZWZ6St"
         "24UVf2Qgo6oujFktLHdHY4",
         Bip32Error::unknown_version},
        {"DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHPmHJiEDXkTiJTVV9rHEBUem2mwVb"
         "bNfvT2MTcAqj3nesx8uBf9",
         Bip32Error::unknown_version},
        {"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzF93Y5wvzdUayhgkkFoicQZcP3y52u"
         "PPxFnfoLZB21Teqt1VvEHx",
         Bip32Error::private_key_out_of_range},  // 0
        {"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD5SDKr2"
         "4z3aiUvKr9bJpdrcLg1y3G",
         Bip32Error::private_key_out_of_range},  // n
        {"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1x"
         "efsM58PgBMrvdYre8QyULY",
         Bip32Error::bad_public_key},  // 02...07 is not on the curve
        {"xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU"
         "3TGtRBeJgk33yuGBxrMPHL",
         Bip32Error::bad_checksum},
    };
    for (const auto& c : kCases) {
        const auto r = decode_extended_key(c.text);
        ASSERT_FALSE(r.has_value()) << c.text;
        EXPECT_EQ(bip32_error_name(r.error()), bip32_error_name(c.error)) << c.text;
    }
    EXPECT_EQ(decode_extended_key("").error(), Bip32Error::bad_base58);
    EXPECT_EQ(decode_extended_key("xpub0").error(), Bip32Error::bad_base58);
    EXPECT_EQ(decode_extended_key("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa").error(),
              Bip32Error::bad_length);
}

// CKDpub from the neutered parent equals the public half of CKDpriv for non-hardened indices;
// a hardened child cannot come from a public key; the fingerprint chain links parent and child.
TEST(Bip32, PublicDerivationAgrees) {
    const auto master = master_key_from_seed(unhex("000102030405060708090a0b0c0d0e0f"));
    ASSERT_TRUE(master.has_value());
    const auto account = derive_path(*master, parse_path("m/84'/0'/0'").value());
    ASSERT_TRUE(account.has_value());
    const ExtendedKey watch_only = account->neutered();
    EXPECT_FALSE(watch_only.is_private());
    for (const std::uint32_t change : {0u, 1u}) {
        for (std::uint32_t i = 0; i < 5; ++i) {
            const auto from_private = derive_path(*account, {change, i});
            const auto from_public = derive_path(watch_only, {change, i});
            ASSERT_TRUE(from_private.has_value() && from_public.has_value());
            EXPECT_EQ(from_private->public_key, from_public->public_key);
            EXPECT_EQ(from_private->chain_code, from_public->chain_code);
            EXPECT_EQ(from_public->parent_fingerprint,
                      derive_child(watch_only, change).value().fingerprint());
        }
    }
    EXPECT_EQ(derive_child(watch_only, kHardenedBit).error(), Bip32Error::hardened_from_public);
    EXPECT_EQ(derive_child(*account, 7).value().parent_fingerprint, account->fingerprint());
}

// Seeds outside 16..64 bytes are refused; depth stops at 255.
TEST(Bip32, SeedAndDepthLimits) {
    EXPECT_EQ(master_key_from_seed(Bytes(15, 1)).error(), Bip32Error::bad_seed_length);
    EXPECT_EQ(master_key_from_seed(Bytes(65, 1)).error(), Bip32Error::bad_seed_length);
    EXPECT_TRUE(master_key_from_seed(Bytes(16, 1)).has_value());
    EXPECT_TRUE(master_key_from_seed(Bytes(64, 1)).has_value());
    auto key = master_key_from_seed(Bytes(32, 7)).value();
    key.depth = 255;
    EXPECT_EQ(derive_child(key, 0).error(), Bip32Error::too_deep);
}

// Paths: the forms wallets write, canonical formatting, and each refusal by name.
TEST(Bip32, PathParsing) {
    EXPECT_EQ(parse_path("m").value(), DerivationPath{});
    EXPECT_EQ(parse_path("m/84'/0'/0'/0/5").value(),
              (DerivationPath{84 | kHardenedBit, kHardenedBit, kHardenedBit, 0, 5}));
    EXPECT_EQ(parse_path("m/84h/1h/0h/1/2147483647").value(),
              (DerivationPath{84 | kHardenedBit, 1 | kHardenedBit, kHardenedBit, 1, 2147483647}));
    EXPECT_EQ(format_path(parse_path("m/84h/0'/0'/0/5").value()), "m/84'/0'/0'/0/5");

    struct Bad {
        std::string_view text;
        PathError error;
    };
    constexpr Bad kBad[] = {
        {"", PathError::empty},
        {"84'/0'", PathError::missing_root},
        {"M/0", PathError::missing_root},
        {"m0", PathError::missing_root},
        {"m/", PathError::empty_component},
        {"m//0", PathError::empty_component},
        {"m/0/", PathError::empty_component},
        {"m/x", PathError::not_a_number},
        {"m/'", PathError::not_a_number},
        {"m/1''", PathError::not_a_number},
        {"m/ 1", PathError::not_a_number},
        {"m/-1", PathError::not_a_number},
        {"m/+1", PathError::not_a_number},
        {"m/1H", PathError::not_a_number},
        {"m/01", PathError::leading_zero},
        {"m/2147483648", PathError::index_too_large},
        {"m/2147483648'", PathError::index_too_large},
        {"m/99999999999999999999999", PathError::index_too_large},
    };
    for (const auto& b : kBad) {
        const auto r = parse_path(b.text);
        ASSERT_FALSE(r.has_value()) << b.text;
        EXPECT_EQ(path_error_name(r.error()), path_error_name(b.error)) << b.text;
    }
    std::string deep = "m";
    for (std::size_t i = 0; i < kMaxPathDepth; ++i) deep += "/1";
    EXPECT_EQ(parse_path(deep).value().size(), kMaxPathDepth);
    EXPECT_EQ(parse_path(deep + "/1").error(), PathError::too_deep);
    EXPECT_EQ(parse_path(std::string(kMaxPathChars + 1, 'm')).error(), PathError::too_long);
}

// BIP84's test vectors: the mnemonic's root and account keys in SLIP-132 form, and the first
// receive and change keys as WIF, public key and address.
TEST(Bip84, TestVectors) {
    const NetworkParams& main = network_params(Network::main);
    const auto seed = mnemonic_to_seed(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "about",
        "");
    ASSERT_TRUE(seed.has_value());
    const auto root = master_key_from_seed(seed->bytes);
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(encode_extended_private(*root, main.bip84),
              "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wix"
              "Pox7zhZLfiUm8aunE96BBa4Kei5");
    const auto account = derive_path(*root, bip84_account_path(main, 0));
    ASSERT_TRUE(account.has_value());
    EXPECT_EQ(format_path(bip84_account_path(main, 0)), "m/84'/0'/0'");
    EXPECT_EQ(encode_extended_private(*account, main.bip84),
              "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJ"
              "A9iefm1yYNZKEm7z6qUWCroSQnE");
    EXPECT_EQ(encode_extended_public(*account, main.bip84),
              "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUU"
              "kgDKf31mGDtKsAYz2oz2AGutZYs");
    const auto decoded = decode_extended_key(
        "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf3"
        "1mGDtKsAYz2oz2AGutZYs");
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(decoded->bip84);
    EXPECT_EQ(decoded->network, Network::main);

    struct Leaf {
        std::uint32_t change;
        std::uint32_t index;
        std::string_view wif;
        std::string_view pub;
        std::string_view address;
    };
    constexpr Leaf kLeaves[] = {
        {0, 0, "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d",
         "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
         "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"},
        {0, 1, "Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy",
         "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77",
         "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"},
        {1, 0, "KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF",
         "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6",
         "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"},
    };
    for (const Leaf& l : kLeaves) {
        const auto key = derive_path(*root, bip84_path(main, 0, l.change, l.index));
        ASSERT_TRUE(key.has_value());
        EXPECT_EQ(encode_wif(main, *key->private_key), l.wif);
        EXPECT_EQ(hex(key->public_key.bytes()), l.pub);
        EXPECT_EQ(p2wpkh_address(main, key->public_key), l.address);
        // The watch-only account key gives the same address.
        const auto watch = derive_path(account->neutered(), {l.change, l.index});
        EXPECT_EQ(p2wpkh_address(main, watch.value().public_key), l.address);
    }
}

// Test networks use coin type 1 and tprv/tpub; regtest shares them and gets bcrt addresses.
TEST(Bip84, TestNetworks) {
    const auto root = master_key_from_seed(unhex("000102030405060708090a0b0c0d0e0f")).value();
    const NetworkParams& regtest = network_params(Network::regtest);
    EXPECT_EQ(format_path(bip84_path(regtest, 0, 0, 5)), "m/84'/1'/0'/0/5");
    EXPECT_EQ(encode_extended_private(root, regtest.bip32).substr(0, 4), "tprv");
    EXPECT_EQ(encode_extended_public(root, regtest.bip32).substr(0, 4), "tpub");
    EXPECT_EQ(encode_extended_private(root, regtest.bip84).substr(0, 4), "vprv");
    EXPECT_EQ(encode_extended_public(root, regtest.bip84).substr(0, 4), "vpub");
    const auto key = derive_path(root, bip84_path(regtest, 0, 0, 5)).value();
    EXPECT_EQ(p2wpkh_address(regtest, key.public_key).substr(0, 6), "bcrt1q");
    const auto decoded = decode_extended_key(encode_extended_public(root, regtest.bip84));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->network, Network::test);
    EXPECT_TRUE(decoded->bip84);
}

}  // namespace
}  // namespace satload::chain
