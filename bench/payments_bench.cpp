// What recording a paid download's attempt costs the payment that records it: an unsynced
// SQLite transaction of its own (SqlitePaymentStore, before session 9), or a line appended to
// the record log and an entry in memory (BufferedPaymentStore; its background flush writes the
// waiting records in one transaction every 20 ms, on its own thread, and is included in the
// process's CPU but not in the caller's time). One thread; not part of bench/run.sh's table.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "payments/buffered_payment_store.h"
#include "payments/sqlite_payment_store.h"

namespace {

using satload::payments::AttemptState;
using satload::payments::BufferedPaymentStore;
using satload::payments::PaymentAttempt;
using satload::payments::PaymentStore;
using satload::payments::SqlitePaymentStore;

std::filesystem::path fresh_dir() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("payments_bench_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    return dir;
}

PaymentAttempt granted(std::int64_t n) {
    PaymentAttempt a;
    a.payer = 1 + n % 1000;
    a.file_id = "AbCdEfGhIjKlMnOpQrSt" + std::to_string(n / 1000);
    a.attempt_no = 1;
    a.state = AttemptState::granted;
    a.uploader = 7;
    a.price_msat = 1'000;
    a.uploader_msat = 900;
    a.platform_msat = 100;
    a.created_s = 1'700'000'000;
    a.expires_s = 1'700'003'600;
    return a;
}

void record(benchmark::State& state, PaymentStore& store) {
    std::int64_t n = 0;
    for (auto _ : state) {
        if (!store.insert_attempt(granted(n++))) state.SkipWithError("insert failed");
    }
    state.SetItemsProcessed(n);
}

// The store of a fresh directory: SQLite's alone, or written behind over it.
std::unique_ptr<PaymentStore> open_store(const std::filesystem::path& dir, bool written_behind) {
    auto sqlite = SqlitePaymentStore::open(dir / "meta.sqlite");
    if (!sqlite) return nullptr;
    if (!written_behind) return std::move(*sqlite);
    auto buffered = BufferedPaymentStore::open(std::move(*sqlite), dir / "records");
    return buffered ? std::move(*buffered) : nullptr;
}

void record_into(benchmark::State& state, bool written_behind) {
    const auto dir = fresh_dir();
    if (auto store = open_store(dir, written_behind)) {
        record(state, *store);
    } else {
        state.SkipWithError("open failed");
    }
    std::filesystem::remove_all(dir);
}

void BM_RecordUnsyncedTransaction(benchmark::State& state) { record_into(state, false); }
BENCHMARK(BM_RecordUnsyncedTransaction)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();

void BM_RecordWrittenBehind(benchmark::State& state) { record_into(state, true); }
BENCHMARK(BM_RecordWrittenBehind)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
