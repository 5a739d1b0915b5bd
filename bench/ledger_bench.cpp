// Ledger throughput: transfers per second through the public API (Ledger::submit_transfers)
// with many concurrent submitters, on SQLite or PostgreSQL, and the raw speed of SQLite
// doing durable inserts of the same row shape in batches of 1,000 (bench/ledger.sh runs all
// of them side by side with pgbench).
//
//   ledger_bench sqlite DIR [--threads N] [--inflight K] [--seconds S] [--legs L]
//   ledger_bench postgres URL [same options]
//   ledger_bench sqlite-raw DIR [--seconds S]
//
// Each submitter keeps up to K submissions in flight (K=1: submit and wait); a submission is
// one transfer, or a linked group of L legs (a download payment). Prints one result line.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/pg_ledger_store.h"
#include "ledger/sqlite_ledger_store.h"

namespace {

using namespace satload::ledger;
using Clock = std::chrono::steady_clock;

int kWallets = 10'000;  // --wallets
constexpr std::int64_t kFunding = 1'000'000'000'000;  // per wallet: never runs out

struct Options {
    std::string mode, target;
    int threads = 64;
    int inflight = 1;
    int legs = 1;
    double seconds = 10;
    bool ordered_ids = false;  // time-ordered ids (like ULIDs) instead of random ones
};

Id128 wallet(int i) { return Id128{0x1, static_cast<std::uint64_t>(i) + 1}; }
const Id128 kAssets{0x2, 1};

// A time-ordered id (time_ordered_id: milliseconds, then random bits), as satload's own
// callers make them, so new ids land at the right edge of the id index.
Id128 ordered_id(std::mt19937_64& rng) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return time_ordered_id(ns, rng(), rng());
}

int fail_with(const std::string& what) {
    std::fprintf(stderr, "ledger_bench: %s\n", what.c_str());
    return 1;
}

// Creates the accounts and funds every wallet, in submissions of at most 8,000 events.
bool setup(Ledger& ledger) {
    std::vector<Account> accounts;
    Account assets;
    assets.id = kAssets;
    assets.kind = AccountKind::onchain_assets;
    accounts.push_back(assets);
    for (int i = 0; i < kWallets; ++i) {
        Account a;
        a.id = wallet(i);
        a.kind = AccountKind::user_wallet;
        a.flags = account_flags::debits_must_not_exceed_credits;
        a.owner = "bench" + std::to_string(i);
        accounts.push_back(a);
    }
    for (std::size_t at = 0; at < accounts.size(); at += 8'000) {
        std::vector<Account> part(accounts.begin() + static_cast<std::ptrdiff_t>(at),
                                  accounts.begin() + static_cast<std::ptrdiff_t>(std::min(accounts.size(), at + 8'000)));
        if (!ledger.create_accounts(part)) return false;
    }
    std::vector<Transfer> funding;
    for (int i = 0; i < kWallets; ++i) {
        Transfer t;
        t.id = Id128{0x3, static_cast<std::uint64_t>(i) + 1};
        t.debit_account_id = kAssets;
        t.credit_account_id = wallet(i);
        t.amount_msat = kFunding;
        t.code = transfer_code::deposit;
        funding.push_back(t);
        if (funding.size() == 8'000 || i + 1 == kWallets) {
            const auto r = ledger.create_transfers(funding);
            if (!r) return false;
            for (const auto& o : *r) {
                if (o.result != TransferResult::ok && o.result != TransferResult::exists) return false;
            }
            funding.clear();
        }
    }
    return true;
}

int run_ledger(const Options& o) {
    std::unique_ptr<LedgerStore> store;
    std::filesystem::path checkpoint;
    if (o.mode == "sqlite") {
        std::filesystem::create_directories(o.target);
        const auto db = std::filesystem::path(o.target) / "ledger.db";
        auto s = SqliteLedgerStore::open(db);
        if (!s) return fail_with(s.error().message);
        store = std::move(*s);
        checkpoint = checkpoint_path_for(db);
    } else {
        const std::string schema = "bench_" + std::to_string(::getpid());
        auto s = PgLedgerStore::open(o.target, schema);
        if (!s) return fail_with(s.error().message);
        store = std::move(*s);
        checkpoint = std::filesystem::temp_directory_path() / (schema + ".head");
    }
    LedgerOptions options;
    options.checkpoint_file = checkpoint;
    auto opened = Ledger::open(std::move(store), options);
    if (!opened) return fail_with(opened.error().message);
    Ledger& ledger = **opened;
    if (!setup(ledger)) return fail_with("setup failed");

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> transfers{0};
    std::atomic<std::uint64_t> not_ok{0};
    const auto before = ledger.stats();
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int th = 0; th < o.threads; ++th) {
        threads.emplace_back([&, th] {
            std::mt19937_64 rng(static_cast<std::uint64_t>(th) * 7919 + 1);
            std::deque<std::future<LedgerResult<std::vector<TransferOutcome>>>> in_flight;
            auto settle = [&](std::future<LedgerResult<std::vector<TransferOutcome>>>& f) {
                const auto r = f.get();
                if (!r) {
                    not_ok += 1;
                    return;
                }
                for (const auto& out : *r) {
                    if (out.result != TransferResult::ok) not_ok += 1;
                }
                transfers += r->size();
            };
            while (!stop.load(std::memory_order_relaxed)) {
                std::vector<Transfer> submission;
                const int payer = static_cast<int>(rng() % kWallets);
                for (int leg = 0; leg < o.legs; ++leg) {
                    Transfer t;
                    t.id = o.ordered_ids ? ordered_id(rng) : Id128{rng(), rng()};
                    t.debit_account_id = wallet(payer);
                    int payee = static_cast<int>(rng() % kWallets);
                    if (payee == payer) payee = (payee + 1) % kWallets;
                    t.credit_account_id = wallet(payee);
                    t.amount_msat = static_cast<std::int64_t>(1 + rng() % 10'000);
                    t.code = transfer_code::download_payment;
                    t.flags = leg + 1 < o.legs ? transfer_flags::linked : 0;
                    submission.push_back(t);
                }
                in_flight.push_back(ledger.submit_transfers(std::move(submission)));
                if (static_cast<int>(in_flight.size()) >= o.inflight) {
                    settle(in_flight.front());
                    in_flight.pop_front();
                }
            }
            for (auto& f : in_flight) settle(f);
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const auto after = ledger.stats();
    const double batches = static_cast<double>(after.batches - before.batches);
    std::printf("ledger %-8s threads=%d inflight=%d legs=%d ids=%s: %.0f transfers/s (%llu transfers in %.1f s, "
                "%.0f commits/s, %.0f events per commit, %llu not ok)\n",
                o.mode.c_str(), o.threads, o.inflight, o.legs, o.ordered_ids ? "ordered" : "random",
                static_cast<double>(transfers) / elapsed,
                static_cast<unsigned long long>(transfers.load()), elapsed, batches / elapsed,
                batches > 0 ? static_cast<double>(after.events - before.events) / batches : 0.0,
                static_cast<unsigned long long>(not_ok.load()));
    const auto per_event = [&](std::uint64_t ns_after, std::uint64_t ns_before) {
        const auto n = after.events - before.events;
        return n > 0 ? static_cast<double>(ns_after - ns_before) / 1000.0 / static_cast<double>(n) : 0.0;
    };
    std::printf("  writer us/transfer: prefetch %.2f, apply %.2f, commit %.2f, publish %.2f\n",
                per_event(after.prefetch_ns, before.prefetch_ns), per_event(after.apply_ns, before.apply_ns),
                per_event(after.commit_ns, before.commit_ns), per_event(after.publish_ns, before.publish_ns));
    const auto report = ledger.audit();
    if (!report.passed()) return fail_with("audit failed after the run:\n" + report.text());
    if (o.mode == "postgres") {
        opened->reset();
        (void)PgLedgerStore::drop_schema(o.target, "bench_" + std::to_string(::getpid()));
        std::filesystem::remove(checkpoint);
        std::filesystem::remove(checkpoint.string() + ".lock");
    }
    return not_ok == 0 ? 0 : 1;
}

// The engine alone: the same journal table and indexes, WAL and synchronous=FULL, 1,000 rows
// per transaction, prepared statement reused, no ledger logic.
int run_sqlite_raw(const Options& o) {
    std::filesystem::create_directories(o.target);
    const auto db_path = std::filesystem::path(o.target) / "raw.db";
    std::filesystem::remove(db_path);
    // Create the real schema through the store, then insert with plain SQLite.
    { auto s = SqliteLedgerStore::open(db_path); if (!s) return fail_with(s.error().message); }
    sqlite3* db = nullptr;
    if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) return fail_with("open raw db");
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db,
                       "INSERT INTO ledger_journal (seq, kind, id, debit_id, credit_id, debit_prev, "
                       "credit_prev, pending_id, user_data, amount, timeout_s, code, flags, result, "
                       "timestamp_ns, memo, hash) VALUES (?,2,?,?,?,?,?,NULL,NULL,?,0,2,0,0,?,'',?)",
                       -1, &insert, nullptr);
    std::mt19937_64 rng(1);
    std::int64_t seq = 0;
    std::uint64_t rows = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < o.seconds) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        for (int i = 0; i < 1'000; ++i) {
            std::uint8_t id[16] = {}, debit[16] = {}, credit[16] = {}, hash[32];
            const Id128 new_id = o.ordered_ids ? ordered_id(rng) : Id128{rng(), rng()};
            const IdBytes id_be = id_bytes(new_id);
            std::copy(id_be.begin(), id_be.end(), id);
            // Accounts come from a set of kWallets, like real wallets.
            for (auto* b : {debit, credit}) {
                const auto w = rng() % kWallets;
                b[14] = static_cast<std::uint8_t>(w >> 8);
                b[15] = static_cast<std::uint8_t>(w);
                b[7] = 1;
            }
            for (auto& b : hash) b = static_cast<std::uint8_t>(rng());
            sqlite3_bind_int64(insert, 1, ++seq);
            sqlite3_bind_blob(insert, 2, id, 16, SQLITE_TRANSIENT);
            sqlite3_bind_blob(insert, 3, debit, 16, SQLITE_TRANSIENT);
            sqlite3_bind_blob(insert, 4, credit, 16, SQLITE_TRANSIENT);
            sqlite3_bind_int64(insert, 5, seq > 10'000 ? seq - 10'000 : 0);
            sqlite3_bind_int64(insert, 6, seq > 9'000 ? seq - 9'000 : 0);
            sqlite3_bind_int64(insert, 7, static_cast<sqlite3_int64>(1 + rng() % 10'000));
            sqlite3_bind_int64(insert, 8, seq);
            sqlite3_bind_blob(insert, 9, hash, 32, SQLITE_TRANSIENT);
            if (sqlite3_step(insert) != SQLITE_DONE) return fail_with(sqlite3_errmsg(db));
            sqlite3_reset(insert);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        rows += 1'000;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    std::printf("raw sqlite durable inserts, batches of 1000, ids=%s: %.0f rows/s (%llu rows in %.1f s)\n",
                o.ordered_ids ? "ordered" : "random", static_cast<double>(rows) / elapsed,
                static_cast<unsigned long long>(rows), elapsed);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: ledger_bench sqlite DIR | postgres URL | sqlite-raw DIR "
                             "[--threads N] [--inflight K] [--legs L] [--seconds S]\n");
        return 2;
    }
    Options o;
    o.mode = argv[1];
    o.target = argv[2];
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--threads") o.threads = std::stoi(value);
        else if (flag == "--inflight") o.inflight = std::stoi(value);
        else if (flag == "--legs") o.legs = std::stoi(value);
        else if (flag == "--seconds") o.seconds = std::stod(value);
        else if (flag == "--ids") o.ordered_ids = value == "ordered";
        else if (flag == "--wallets") kWallets = std::stoi(value);
        else return fail_with("unknown option " + flag);
    }
    if (o.mode == "sqlite" || o.mode == "postgres") return run_ledger(o);
    if (o.mode == "sqlite-raw") return run_sqlite_raw(o);
    return fail_with("unknown mode " + o.mode);
}
