// The checks a seed file passes before Argon2id runs (seed_file_kdf): exact size and magic,
// and a KDF cost within kMinSeedKdf and the maxima, tested at and past each edge, so no file
// can make opening it cost more than the maxima (or be a downgrade below the minimum).
#include <gtest/gtest.h>

#include <cstdint>

#include "onchain/seed.h"

namespace satload::onchain {
namespace {

Bytes file_naming(std::uint32_t ops, std::uint32_t mem_kib) {
    Bytes f(kSeedFileBytes, 0);
    const char magic[8] = {'S', 'L', 'S', 'E', 'E', 'D', '1', 0};
    std::copy(magic, magic + 8, f.begin());
    for (int i = 0; i < 4; ++i) {
        f[8 + i] = static_cast<std::uint8_t>(ops >> (24 - 8 * i));
        f[12 + i] = static_cast<std::uint8_t>(mem_kib >> (24 - 8 * i));
    }
    return f;
}

// The cost the file names, read big-endian, accepted from the minimum to the maxima inclusive.
TEST(SeedKdf, BoundsAtTheEdges) {
    const auto min = seed_file_kdf(file_naming(kMinSeedKdf.opslimit, kMinSeedKdf.memlimit_kib));
    ASSERT_TRUE(min.has_value());
    EXPECT_EQ(min->opslimit, kMinSeedKdf.opslimit);
    EXPECT_EQ(min->memlimit_kib, kMinSeedKdf.memlimit_kib);
    const auto max = seed_file_kdf(file_naming(kMaxSeedKdfOps, kMaxSeedKdfMemKib));
    ASSERT_TRUE(max.has_value());
    EXPECT_EQ(max->opslimit, kMaxSeedKdfOps);
    EXPECT_EQ(max->memlimit_kib, kMaxSeedKdfMemKib);
    for (const auto& [ops, mem] : {std::pair{kMinSeedKdf.opslimit - 1, kMinSeedKdf.memlimit_kib},
                                   std::pair{kMaxSeedKdfOps + 1, kMinSeedKdf.memlimit_kib},
                                   std::pair{kMinSeedKdf.opslimit, kMinSeedKdf.memlimit_kib - 1},
                                   std::pair{kMinSeedKdf.opslimit, kMaxSeedKdfMemKib + 1}}) {
        const auto r = seed_file_kdf(file_naming(ops, mem));
        ASSERT_FALSE(r.has_value()) << ops << " " << mem;
        EXPECT_EQ(r.error().code, SeedError::malformed);
    }
}

// One byte more or less, or another magic, is not a seed file.
TEST(SeedKdf, SizeAndMagic) {
    Bytes f = file_naming(kMinSeedKdf.opslimit, kMinSeedKdf.memlimit_kib);
    Bytes longer = f;
    longer.push_back(0);
    EXPECT_FALSE(seed_file_kdf(longer));
    f.pop_back();
    EXPECT_FALSE(seed_file_kdf(f));
    Bytes other = file_naming(kMinSeedKdf.opslimit, kMinSeedKdf.memlimit_kib);
    other[6] = '2';
    EXPECT_FALSE(seed_file_kdf(other));
}

}  // namespace
}  // namespace satload::onchain
