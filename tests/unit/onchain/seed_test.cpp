// The encrypted seed file: a round trip gives the same entropy, a wrong passphrase or any
// changed byte is refused (never a different wallet), the file is created once with 0600 and
// read back on the next start, and the account key matches the BIP84 path of the mnemonic.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "chain/address.h"
#include "chain/bip39.h"
#include "onchain/seed.h"

namespace satload::onchain {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace seed_test {

namespace fs = std::filesystem;

// The cheapest cost a file may name, so the tests stay fast.
constexpr SeedKdfParams kFast = kMinSeedKdf;

SeedEntropy sample_entropy(std::uint8_t fill) {
    SeedEntropy e;
    for (std::size_t i = 0; i < e.bytes.size(); ++i) e.bytes[i] = static_cast<std::uint8_t>(fill + i);
    return e;
}

fs::path temp_dir() {
    const char* base = std::getenv("SATLOAD_TEST_TMP");
    fs::path dir = fs::path(base ? base : "/tmp") /
                   ("seed_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    return dir;
}

// Encrypting then decrypting with the same passphrase gives the entropy back; the file has
// the documented size and never contains the entropy in the clear.
TEST(Seed, RoundTrip) {
    const SeedEntropy e = sample_entropy(3);
    const Bytes file = encrypt_seed(e, "correct horse", kFast);
    ASSERT_EQ(file.size(), kSeedFileBytes);
    const auto clear = std::search(file.begin(), file.end(), e.bytes.begin(), e.bytes.end());
    EXPECT_EQ(clear, file.end());
    auto back = decrypt_seed(file, "correct horse");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->bytes, e.bytes);
    // Fresh salt and nonce each time: two files of the same seed differ.
    EXPECT_NE(encrypt_seed(e, "correct horse", kFast), file);
}

// A wrong passphrase (even one character off, or empty) is refused as wrong_passphrase.
TEST(Seed, WrongPassphraseRefused) {
    const Bytes file = encrypt_seed(sample_entropy(9), "correct horse", kFast);
    for (const std::string_view wrong : {"correct hors", "Correct horse", "", "correct horse "}) {
        auto r = decrypt_seed(file, wrong);
        ASSERT_FALSE(r) << wrong;
        EXPECT_EQ(r.error().code, SeedError::wrong_passphrase);
    }
}

// Every byte is covered: a flipped bit in the header (KDF cost, salt, nonce), the ciphertext
// or the tag is refused; a changed magic or length is malformed.
TEST(Seed, AnyChangeRefused) {
    const Bytes file = encrypt_seed(sample_entropy(1), "pw", kFast);
    for (std::size_t i = 8; i < file.size(); ++i) {
        Bytes bad = file;
        bad[i] ^= 0x01;
        auto r = decrypt_seed(bad, "pw");
        ASSERT_FALSE(r) << "byte " << i;
    }
    Bytes bad_magic = file;
    bad_magic[0] = 'X';
    EXPECT_EQ(decrypt_seed(bad_magic, "pw").error().code, SeedError::malformed);
    Bytes short_file(file.begin(), file.end() - 1);
    EXPECT_EQ(decrypt_seed(short_file, "pw").error().code, SeedError::malformed);
}

// The first start creates the file (0600) with random entropy; the next start reads the same
// seed; a wrong passphrase at the next start is refused and the file is left as it was.
TEST(Seed, CreatedOnceThenLoaded) {
    const fs::path dir = temp_dir();
    const fs::path file = dir / kSeedFileName;
    auto first = load_or_create_seed(file, "pw", kFast);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(first->created);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto second = load_or_create_seed(file, "pw", kFast);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_FALSE(second->created);
    EXPECT_EQ(second->entropy.bytes, first->entropy.bytes);
    const auto size_before = fs::file_size(file);
    auto wrong = load_or_create_seed(file, "other", kFast);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, SeedError::wrong_passphrase);
    EXPECT_EQ(fs::file_size(file), size_before);
    fs::remove_all(dir);
}

// The account key is m/84'/coin'/0' of the 24-word mnemonic of the entropy with no BIP39
// passphrase: its first receive address equals the one derived from the words directly.
TEST(Seed, AccountKeyFollowsTheMnemonic) {
    const SeedEntropy e = sample_entropy(42);
    const auto& net = chain::network_params(chain::Network::regtest);
    const chain::ExtendedKey account = account_key(e, net);
    auto words = chain::mnemonic_from_entropy(e.bytes);
    ASSERT_TRUE(words);
    auto seed = chain::mnemonic_to_seed(*words, "");
    ASSERT_TRUE(seed);
    auto master = chain::master_key_from_seed(seed->bytes);
    ASSERT_TRUE(master);
    auto direct = chain::derive_path(*master, chain::bip84_path(net, 0, 0, 0));
    ASSERT_TRUE(direct);
    auto via_account = chain::derive_path(account, {0, 0});
    ASSERT_TRUE(via_account);
    EXPECT_EQ(chain::p2wpkh_address(net, via_account->public_key), chain::p2wpkh_address(net, direct->public_key));
    EXPECT_EQ(account.depth, 3);
}

}  // namespace seed_test
}  // namespace
}  // namespace satload::onchain
