// Fuzzes the wallet seed file of the data directory (onchain/seed.h) up to the point where
// Argon2id would run: no crash; a file is accepted only at exactly kSeedFileBytes with the
// magic and a KDF cost within the bounds (so no file makes the server spend more than the
// maxima to open it); the cost read is the one the file names. Once per run, a file written at
// the smallest cost opens with its passphrase, to the same entropy, and with no other.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "onchain/seed.h"

namespace onchain = satload::onchain;

namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void check_round_trip_once() {
    static bool done = false;
    if (done) return;
    done = true;
    onchain::SeedEntropy e;
    for (std::size_t i = 0; i < e.bytes.size(); ++i) e.bytes[i] = static_cast<std::uint8_t>(i * 7);
    const satload::Bytes file = onchain::encrypt_seed(e, "pw", onchain::kMinSeedKdf);
    const auto kdf = onchain::seed_file_kdf(file);
    if (!kdf || kdf->opslimit != onchain::kMinSeedKdf.opslimit ||
        kdf->memlimit_kib != onchain::kMinSeedKdf.memlimit_kib) {
        std::abort();
    }
    const auto back = onchain::decrypt_seed(file, "pw");
    if (!back || back->bytes != e.bytes) std::abort();
    const auto wrong = onchain::decrypt_seed(file, "pW");
    if (wrong || wrong.error().code != onchain::SeedError::wrong_passphrase) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_round_trip_once();
    const auto kdf = onchain::seed_file_kdf(satload::ByteSpan(data, size));
    if (!kdf) {
        if (kdf.error().code != onchain::SeedError::malformed) std::abort();
        return 0;
    }
    if (size != onchain::kSeedFileBytes) std::abort();
    if (kdf->opslimit != be32(data + 8) || kdf->memlimit_kib != be32(data + 12)) std::abort();
    if (kdf->opslimit < onchain::kMinSeedKdf.opslimit || kdf->opslimit > onchain::kMaxSeedKdfOps) std::abort();
    if (kdf->memlimit_kib < onchain::kMinSeedKdf.memlimit_kib || kdf->memlimit_kib > onchain::kMaxSeedKdfMemKib) {
        std::abort();
    }
    return 0;
}
