// Throughput of RFC 8188 records at the default 64 KiB record size: per-record encryption
// and decryption with a reused context (what uploads and ranged downloads do), and the
// streaming decoder over a whole body. bench/crypto.sh compares these with `openssl speed`.
#include <benchmark/benchmark.h>

#include "crypto/ece.h"
#include "crypto/primitives.h"

namespace {

using satload::Bytes;
namespace ece = satload::crypto::ece;

ece::Key bench_key() {
    ece::Key k{};
    satload::crypto::random_bytes(k);
    return k;
}

ece::Header bench_header() {
    ece::Header h;
    satload::crypto::random_bytes(h.salt);
    h.record_size = ece::kDefaultRecordSize;
    return h;
}

// Bytes processed are plaintext bytes (65519 per record).
void BM_EncryptRecord64KiB(benchmark::State& state) {
    const ece::Header h = bench_header();
    ece::Encoder encoder(bench_key(), h);
    Bytes plain(encoder.plaintext_per_record(), 0x5c);
    Bytes out(h.record_size);
    std::uint64_t index = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(encoder.encrypt_record(index++, plain, false, out));
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_EncryptRecord64KiB);

void BM_DecryptRecord64KiB(benchmark::State& state) {
    const ece::Key key = bench_key();
    const ece::Header h = bench_header();
    ece::Encoder encoder(key, h);
    Bytes plain(encoder.plaintext_per_record(), 0x5c);
    Bytes record(h.record_size);
    encoder.encrypt_record(7, plain, false, record);
    ece::Decoder decoder(key, h);
    Bytes out(plain.size());
    for (auto _ : state) {
        auto r = decoder.decrypt_record(7, record, out);
        if (!r) state.SkipWithError("decryption failed");
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_DecryptRecord64KiB);

// The streaming decoder over a 16 MiB body pushed in 64 KiB chunks (the download path).
void BM_StreamDecrypt16MiB(benchmark::State& state) {
    const ece::Key key = bench_key();
    const Bytes plain(16u << 20, 0x3e);
    const Bytes body = ece::encrypt(key, plain, bench_header());
    Bytes out;
    out.reserve(plain.size());
    constexpr std::size_t kChunkBytes = 64u * 1024;
    for (auto _ : state) {
        out.clear();
        ece::StreamDecoder decoder(key);
        satload::ByteSpan left(body);
        while (!left.empty()) {
            const std::size_t n = std::min(kChunkBytes, left.size());
            if (!decoder.push(left.first(n), out)) state.SkipWithError("decryption failed");
            left = left.subspan(n);
        }
        if (!decoder.finish(out)) state.SkipWithError("decryption failed");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_StreamDecrypt16MiB);

}  // namespace

BENCHMARK_MAIN();
