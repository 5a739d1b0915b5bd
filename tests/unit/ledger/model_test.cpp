// The randomized model test, on SQLite and on PostgreSQL: thousands of random transfers,
// linked groups, two-phase transfers with timeouts and retries of the same ids, submitted from
// many threads. Afterwards the submissions are replayed, in the order the ledger applied them
// (its timestamps), through an independent reference model: every result and every final
// balance must agree, the audit must pass (also after a restart), and every result code must
// have occurred at least once. The seed is printed; SATLOAD_LEDGER_SEED=<n> repeats the
// workload (thread interleaving still varies).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "backends.h"
#include "ledger/ledger.h"
#include "reference_model.h"

namespace satload::ledger {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace model_test {

using testing::Backend;
using testing::Place;
using testing::ReferenceModel;
using R = TransferResult;
using A = CreateAccountResult;
namespace tf = transfer_flags;

constexpr std::int64_t kMsNs = 1'000'000;
constexpr int kWallets = 8;
const Id128 kAssets{0xB, 1};
const Id128 kRevenue{0xB, 2};
const Id128 kReceivable{0xB, 3};
// Unlimited accounts for supply-sized transfers: kHuge[0] pays kHuge[1..3] (its debits
// overflow first), kHuge[4..6] pay kHuge[7] (its credits overflow first).
const Id128 kHuge[8] = {{0xC, 1}, {0xC, 2}, {0xC, 3}, {0xC, 4},
                        {0xC, 5}, {0xC, 6}, {0xC, 7}, {0xC, 8}};

Id128 wallet_id(int i) { return Id128{0xA, static_cast<std::uint64_t>(i)}; }

struct Submission {
    bool is_accounts = false;
    std::vector<Transfer> transfers;
    std::vector<Account> accounts;
    std::vector<R> results;
    std::vector<A> account_results;
    std::vector<std::int64_t> timestamps;
};

// What all threads share: past submissions (for retries) and pending transfers (to resolve).
struct Shared {
    std::mutex mutex;
    std::vector<std::vector<Transfer>> history;
    std::vector<Transfer> pendings;
    std::vector<Transfer> plain;
    std::vector<Transfer> resolutions;
    std::atomic<std::int64_t> clock_ns{1'800'000'000'000'000'000};
};

class Generator {
public:
    // `available` reads a wallet's committed available balance, so that some payments spend
    // exactly what is there (the boundary of exceeds_credits).
    Generator(std::uint64_t seed, int thread, Shared& shared,
              std::function<std::int64_t(Id128)> available)
        : m_rng(seed * 7919 + static_cast<std::uint64_t>(thread)),
          m_thread(thread),
          m_shared(shared),
          m_available(std::move(available)) {}

    std::uint64_t below(std::uint64_t n) { return m_rng() % n; }
    bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }

    Id128 fresh_id() { return Id128{0x1000 + static_cast<std::uint64_t>(m_thread), ++m_counter}; }
    Id128 wallet() { return wallet_id(static_cast<int>(below(kWallets))); }

    Transfer plain(Id128 debit, Id128 credit, std::int64_t amount) {
        Transfer t;
        t.id = fresh_id();
        t.debit_account_id = debit;
        t.credit_account_id = credit;
        t.amount_msat = amount;
        t.code = static_cast<std::uint16_t>(1 + below(8));
        if (chance(20)) t.user_data = Id128{7, below(5)};
        if (chance(20)) t.memo = "memo " + std::to_string(below(3));
        return t;
    }

    // One submission of a randomly chosen kind.
    Submission next() {
        Submission s;
        auto& t = s.transfers;
        const std::uint64_t pick = below(100);
        if (pick < 14) {  // deposit
            t.push_back(plain(kAssets, wallet(), static_cast<std::int64_t>(1 + below(100'000))));
        } else if (pick < 28) {  // payment between users, often more than they have
            Id128 to = chance(20) ? kRevenue : wallet();
            const Id128 from = wallet();
            if (to == from) to = kRevenue;
            std::int64_t amount = static_cast<std::int64_t>(1 + below(60'000));
            if (chance(25)) amount = std::max<std::int64_t>(1, m_available(from) + static_cast<std::int64_t>(below(3)) - 1);
            t.push_back(plain(from, to, amount));
        } else if (pick < 31) {  // platform revenue spent, never below zero (it has no flag)
            const bool pending = chance(50);
            std::int64_t amount = static_cast<std::int64_t>(1 + below(60'000));
            if (chance(40))
                amount = std::max<std::int64_t>(
                    1, m_available(kRevenue) + static_cast<std::int64_t>(below(3)) - 1);
            t.push_back(plain(kRevenue, kAssets, amount));
            t.back().flags = tf::debits_must_not_exceed_credits | (pending ? tf::pending : 0);
        } else if (pick < 38) {  // a linked group from one wallet
            const Id128 from = wallet();
            const std::size_t legs = 2 + below(3);
            for (std::size_t i = 0; i < legs; ++i) {
                Id128 to = i + 1 == legs ? kRevenue : wallet();
                if (to == from) to = kRevenue;
                t.push_back(plain(from, to, static_cast<std::int64_t>(1 + below(20'000))));
                t.back().flags = tf::linked;
            }
            if (!chance(5)) t.back().flags = 0;  // else: the group is left open
            if (chance(8)) defect(t[below(legs)]);
        } else if (pick < 48) {  // a reservation, sometimes with a timeout
            Transfer p = plain(wallet(), chance(50) ? kRevenue : kAssets,
                               static_cast<std::int64_t>(1 + below(30'000)));
            p.flags = tf::pending;
            if (chance(50)) p.timeout_s = static_cast<std::uint32_t>(1 + below(2));
            t.push_back(p);
        } else if (pick < 62) {  // post or void a reservation
            t.push_back(resolution());
        } else if (pick < 68) {  // retry a past submission exactly
            if (auto past = past_submission()) t = *past;
        } else if (pick < 76) {  // retry one past transfer with one field changed
            if (auto past = chance(30) ? past_resolution() : past_submission()) {
                Transfer x = (*past)[below(past->size())];
                x.flags &= static_cast<std::uint16_t>(~tf::linked);
                mutate(x);
                t.push_back(x);
            }
        } else if (pick < 86) {  // a transfer with one defect
            t.push_back(plain(kAssets, wallet(), 5));
            defect(t.back());
        } else if (pick < 90) {  // the receivable: credits may not exceed its debits
            t.push_back(chance(70) ? plain(kAssets, kReceivable, static_cast<std::int64_t>(1 + below(5'000)))
                                   : plain(kReceivable, wallet(), static_cast<std::int64_t>(1 + below(5'000))));
        } else if (pick < 92) {  // supply-sized transfers between unlimited accounts: overflow
            t.push_back(chance(50) ? plain(kHuge[0], kHuge[1 + below(3)], kSupplyMsat)
                                   : plain(kHuge[4 + below(3)], kHuge[7], kSupplyMsat));
        } else if (pick < 95) {  // unknown accounts
            t.push_back(chance(50) ? plain(Id128{0xD, below(3) + 1}, wallet(), 5)
                                   : plain(kAssets, Id128{0xD, below(3) + 1}, 5));
        } else if (pick < 98) {  // account creation, with defects and duplicates
            s.is_accounts = true;
            s.accounts.push_back(account());
        } else if (pick < 99) {  // a group mixing one past transfer with fresh legs
            if (auto past = past_submission()) {
                Transfer old = (*past)[below(past->size())];
                const std::size_t fresh = 1 + below(2);
                const std::size_t at = below(fresh + 1);
                for (std::size_t i = 0; i < fresh; ++i) {
                    t.push_back(plain(wallet(), kRevenue, static_cast<std::int64_t>(1 + below(20'000))));
                }
                t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), old);
                for (Transfer& x : t) x.flags |= tf::linked;
                t.back().flags &= static_cast<std::uint16_t>(~tf::linked);
            }
        } else {  // a mixed submission: several independent transfers
            for (int i = 0; i < 3; ++i) t.push_back(plain(kAssets, wallet(), 1 + static_cast<std::int64_t>(below(99))));
        }
        if (!s.is_accounts && t.empty()) t.push_back(plain(kAssets, wallet(), 1));
        return s;
    }

    void remember(const Submission& s) {
        if (s.is_accounts) return;
        std::lock_guard lock(m_shared.mutex);
        m_shared.history.push_back(s.transfers);
        for (const Transfer& t : s.transfers) {
            if (t.flags & tf::pending) m_shared.pendings.push_back(t);
            if ((t.flags & (tf::pending | tf::post_pending | tf::void_pending)) == 0) m_shared.plain.push_back(t);
            if (t.flags & (tf::post_pending | tf::void_pending)) m_shared.resolutions.push_back(t);
        }
    }

private:
    std::optional<std::vector<Transfer>> past_submission() {
        std::lock_guard lock(m_shared.mutex);
        if (m_shared.history.empty()) return std::nullopt;
        const std::size_t n = m_shared.history.size();
        // Mostly recent ones, so retries race with the original's neighbours.
        const std::size_t back = chance(70) ? below(std::min<std::size_t>(n, 40)) : below(n);
        return m_shared.history[n - 1 - back];
    }

    std::optional<std::vector<Transfer>> past_resolution() {
        std::lock_guard lock(m_shared.mutex);
        if (m_shared.resolutions.empty()) return std::nullopt;
        return std::vector{m_shared.resolutions[below(m_shared.resolutions.size())]};
    }

    Transfer resolution() {
        Transfer p;
        {
            std::lock_guard lock(m_shared.mutex);
            if (!m_shared.pendings.empty()) {
                const std::size_t n = m_shared.pendings.size();
                p = m_shared.pendings[n - 1 - below(std::min<std::size_t>(n, 30))];
            }
            if (chance(4) && !m_shared.plain.empty()) p = m_shared.plain[below(m_shared.plain.size())];
        }
        if (p.id.is_zero() || chance(3)) p = plain(wallet(), kRevenue, 10);  // not found
        Transfer r;
        r.id = fresh_id();
        r.pending_id = p.id;
        r.debit_account_id = p.debit_account_id;
        r.credit_account_id = p.credit_account_id;
        r.code = static_cast<std::uint16_t>(1 + below(8));
        if (chance(55)) {
            r.flags = tf::post_pending;
            const std::uint64_t how = below(10);
            r.amount_msat = how < 5 ? p.amount_msat
                            : how < 8 ? std::max<std::int64_t>(1, p.amount_msat / 2)
                                      : p.amount_msat + 1;
        } else {
            r.flags = tf::void_pending;
            const std::uint64_t how = below(10);
            r.amount_msat = how < 4 ? 0 : how < 8 ? p.amount_msat : p.amount_msat + 3;
        }
        if (chance(4)) r.debit_account_id = kAssets;
        if (chance(4)) r.credit_account_id = wallet_id(kWallets - 1);
        if (r.debit_account_id == r.credit_account_id) r.credit_account_id = kReceivable;
        return r;
    }

    void mutate(Transfer& x) {
        const bool resolves = (x.flags & (tf::post_pending | tf::void_pending)) != 0;
        // The fields only some kinds have get a fair share of the changes.
        if (resolves && chance(40)) {
            x.pending_id = Id128{0xE, below(1000) + 1};
            return;
        }
        if ((x.flags & tf::pending) && chance(40)) {
            x.timeout_s += 1;
            return;
        }
        switch (below(8)) {
            case 0: x.flags ^= resolves ? 0 : tf::pending; x.timeout_s = 0; break;
            case 1: x.debit_account_id = x.debit_account_id == kAssets ? kRevenue : kAssets; break;
            case 2: x.credit_account_id = x.credit_account_id == kRevenue ? kReceivable : kRevenue; break;
            case 3: x.amount_msat += 1; break;
            case 4:
                if (resolves) {
                    x.pending_id = Id128{0xE, below(1000) + 1};
                } else if (x.flags & tf::pending) {
                    x.timeout_s += 1;
                } else {
                    x.code = static_cast<std::uint16_t>(x.code % 8 + 1);
                }
                break;
            case 5: x.code = static_cast<std::uint16_t>(x.code % 8 + 1); break;
            case 6: x.user_data = Id128{9, below(3)}; break;
            default: x.memo += "!"; break;
        }
        if (x.debit_account_id == x.credit_account_id) x.credit_account_id = kReceivable;
    }

    void defect(Transfer& t) {
        switch (below(18)) {
            case 0: t.id = Id128{}; break;
            case 1:
                t.flags = static_cast<std::uint16_t>(t.flags | (1U << (5 + below(11))));
                break;
            case 2: t.flags |= tf::pending | tf::post_pending; break;
            case 3: t.memo.assign(kMemoBytesMax + 1 + below(10), 'x'); break;
            case 4: t.pending_id = Id128{0xF, 1}; break;
            case 5: t.flags = (t.flags & tf::linked) | tf::post_pending; t.pending_id = Id128{}; break;
            case 6: t.flags = (t.flags & tf::linked) | tf::void_pending; t.pending_id = t.id; break;
            case 7: t.timeout_s = 5; break;
            case 8: t.debit_account_id = Id128{}; break;
            case 9: t.credit_account_id = Id128{}; break;
            case 10: t.credit_account_id = t.debit_account_id; break;
            case 11: t.amount_msat = -static_cast<std::int64_t>(1 + below(100)); break;
            case 12: t.amount_msat = kSupplyMsat + 1 + static_cast<std::int64_t>(below(100)); break;
            case 13: t.amount_msat = 0; break;
            case 14: t.code = 0; break;
            case 15: t.flags = (t.flags & tf::linked) | tf::void_pending; t.pending_id = Id128{0xF, 2}; t.amount_msat = 0; break;
            case 16:  // a post may not carry the no-overdraft transfer flag
                t.flags =
                    (t.flags & tf::linked) | tf::post_pending | tf::debits_must_not_exceed_credits;
                t.pending_id = Id128{0xF, 3};
                break;
            default: t.flags |= tf::pending; t.timeout_s = 1; break;
        }
    }

    Account account() {
        Account a;
        a.id = Id128{0x2000 + static_cast<std::uint64_t>(m_thread), below(3) + 1};
        // Kind and flags follow from the id, so a changed field is the only difference.
        a.kind = (a.id.low & 1) ? AccountKind::user_wallet : AccountKind::receivable;
        a.flags = a.kind == AccountKind::user_wallet ? account_flags::debits_must_not_exceed_credits : 0;
        a.owner = "t" + std::to_string(m_thread);
        switch (below(12)) {
            case 0: a.id = Id128{}; break;
            case 1: a.kind = static_cast<AccountKind>(below(2) == 0 ? 0 : 8 + below(5)); break;
            case 2: a.flags = static_cast<std::uint16_t>(4 + below(60)); break;
            case 3: a.flags = account_flags::all; break;
            case 4: a.owner.assign(kOwnerBytesMax + 1, 'o'); break;
            case 5: a.kind = a.kind == AccountKind::receivable ? AccountKind::user_wallet : AccountKind::receivable; break;
            case 6:  // a valid flag set that differs from the one this id is created with
                a.flags = a.kind == AccountKind::user_wallet ? 0 : account_flags::credits_must_not_exceed_debits;
                break;
            case 7: a.owner += "x"; break;
            default: break;
        }
        return a;
    }

    std::mt19937_64 m_rng;
    int m_thread;
    Shared& m_shared;
    std::function<std::int64_t(Id128)> m_available;
    std::uint64_t m_counter = 0;
};

std::vector<Account> initial_accounts() {
    std::vector<Account> out;
    for (int i = 0; i < kWallets; ++i) {
        Account a;
        a.id = wallet_id(i);
        a.kind = AccountKind::user_wallet;
        a.flags = account_flags::debits_must_not_exceed_credits;
        a.owner = "user" + std::to_string(i);
        out.push_back(a);
    }
    auto system = [&](Id128 id, AccountKind kind, std::uint16_t flags) {
        Account a;
        a.id = id;
        a.kind = kind;
        a.flags = flags;
        out.push_back(a);
    };
    system(kAssets, AccountKind::onchain_assets, 0);
    system(kRevenue, AccountKind::platform_revenue, 0);
    system(kReceivable, AccountKind::receivable, account_flags::credits_must_not_exceed_debits);
    for (const Id128& h : kHuge) system(h, AccountKind::operator_adjustments, 0);
    return out;
}

std::string describe(const Transfer& t) {
    return "id=" + id_hex(t.id) + " debit=" + id_hex(t.debit_account_id) + " credit=" +
           id_hex(t.credit_account_id) + " amount=" + std::to_string(t.amount_msat) + " pending=" +
           id_hex(t.pending_id) + " flags=" + std::to_string(t.flags) + " timeout=" +
           std::to_string(t.timeout_s) + " code=" + std::to_string(t.code) + " memo_bytes=" +
           std::to_string(t.memo.size());
}

class ModelTest : public ::testing::TestWithParam<Backend> {};

TEST_P(ModelTest, RandomWorkloadAgreesWithReferenceModel) {
    SATLOAD_REQUIRE_BACKEND(GetParam());
    const char* seed_env = std::getenv("SATLOAD_LEDGER_SEED");
    const std::uint64_t seed = seed_env ? std::stoull(seed_env) : std::random_device{}();
    std::printf("ledger model test seed: %llu (repeat with SATLOAD_LEDGER_SEED=%llu)\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));

    const int threads = 8;
    const int per_thread = testing::small_tests() ? 700 : 1'200;
    Place place(GetParam());
    Shared shared;
    LedgerOptions options;
    options.clock_ns = [&] { return shared.clock_ns.load(); };
    auto opened = place.open_ledger(options);
    ASSERT_TRUE(opened) << opened.error().message;
    std::unique_ptr<Ledger> ledger = std::move(*opened);

    std::vector<Submission> all;
    {
        Submission s;
        s.is_accounts = true;
        s.accounts = initial_accounts();
        const auto out = ledger->create_accounts(s.accounts);
        ASSERT_TRUE(out);
        for (const auto& o : *out) {
            s.account_results.push_back(o.result);
            s.timestamps.push_back(o.timestamp_ns);
        }
        all.push_back(std::move(s));
    }

    // Every account outcome once, in order, before the random workload: the random mix creates
    // few accounts, and a coverage check left to chance is a flaky test.
    {
        Account base;
        base.id = Id128{0x3000, 1};
        base.kind = AccountKind::receivable;
        base.owner = "coverage";
        std::vector<Account> cases(10, base);
        cases[1].id = Id128{};
        cases[2].kind = static_cast<AccountKind>(0);
        cases[3].flags = 4;
        cases[4].flags = account_flags::all;
        cases[5].owner.assign(kOwnerBytesMax + 1, 'o');
        cases[6].kind = AccountKind::user_wallet;
        cases[7].flags = account_flags::credits_must_not_exceed_debits;
        cases[8].owner = "someone else";
        for (Account& a : cases) {
            Submission s;
            s.is_accounts = true;
            s.accounts = {a};
            const auto out = ledger->create_accounts(s.accounts);
            ASSERT_TRUE(out);
            s.account_results.push_back(out->at(0).result);
            s.timestamps.push_back(out->at(0).timestamp_ns);
            all.push_back(std::move(s));
        }
    }

    std::vector<std::vector<Submission>> per(threads);
    std::atomic<bool> failed{false};
    std::vector<std::thread> workers;
    for (int th = 0; th < threads; ++th) {
        workers.emplace_back([&, th] {
            Generator gen(seed, th, shared, [&](Id128 w) {
                const auto a = ledger->lookup_account(w);
                return a ? a->available_msat() : 0;
            });
            for (int i = 0; i < per_thread && !failed; ++i) {
                Submission s = gen.next();
                shared.clock_ns += static_cast<std::int64_t>(gen.below(60)) * kMsNs;
                if (s.is_accounts) {
                    const auto out = ledger->create_accounts(s.accounts);
                    if (!out) {
                        failed = true;
                        break;
                    }
                    for (const auto& o : *out) {
                        s.account_results.push_back(o.result);
                        s.timestamps.push_back(o.timestamp_ns);
                    }
                } else {
                    const auto out = ledger->create_transfers(s.transfers);
                    if (!out) {
                        failed = true;
                        break;
                    }
                    for (const auto& o : *out) {
                        s.results.push_back(o.result);
                        s.timestamps.push_back(o.timestamp_ns);
                    }
                }
                gen.remember(s);
                per[th].push_back(std::move(s));
            }
        });
    }
    for (auto& w : workers) w.join();
    ASSERT_FALSE(failed.load()) << "a submission failed at the store level";
    for (auto& v : per) {
        for (auto& s : v) all.push_back(std::move(s));
    }

    // The ledger's order: by timestamp, which must be unique and increasing event by event.
    std::sort(all.begin(), all.end(),
              [](const Submission& a, const Submission& b) { return a.timestamps[0] < b.timestamps[0]; });
    std::int64_t previous = 0;
    std::size_t events = 0;
    for (const Submission& s : all) {
        for (const std::int64_t ts : s.timestamps) {
            ASSERT_GT(ts, previous) << "timestamps interleave between submissions";
            previous = ts;
            ++events;
        }
    }

    ReferenceModel model;
    std::set<R> seen;
    std::set<A> seen_accounts;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Submission& s = all[i];
        if (s.is_accounts) {
            const auto expected = model.create_accounts(s.accounts);
            ASSERT_EQ(expected, s.account_results) << "account submission " << i;
            seen_accounts.insert(s.account_results.begin(), s.account_results.end());
            continue;
        }
        const auto expected = model.create_transfers(s.transfers, s.timestamps);
        for (std::size_t e = 0; e < s.transfers.size(); ++e) {
            ASSERT_EQ(result_name(expected[e]), result_name(s.results[e]))
                << "submission " << i << " event " << e << " of " << s.transfers.size() << ": "
                << describe(s.transfers[e]);
        }
        seen.insert(s.results.begin(), s.results.end());
    }

    auto compare_balances = [&](const Ledger& l, std::string_view when) {
        std::size_t compared = 0;
        for (const auto& [id, b] : model.accounts) {
            const auto a = l.lookup_account(id);
            ASSERT_TRUE(a.has_value()) << when << " " << id_hex(id);
            EXPECT_EQ(a->debits_posted_msat, b.debits_posted) << when << " " << id_hex(id);
            EXPECT_EQ(a->credits_posted_msat, b.credits_posted) << when << " " << id_hex(id);
            EXPECT_EQ(a->debits_pending_msat, b.debits_pending) << when << " " << id_hex(id);
            EXPECT_EQ(a->credits_pending_msat, b.credits_pending) << when << " " << id_hex(id);
            ++compared;
        }
        EXPECT_EQ(compared, l.accounts().size());
    };
    compare_balances(*ledger, "live");
    const auto report = ledger->audit();
    EXPECT_TRUE(report.passed()) << report.text();

    const auto batches = ledger->stats().batches;
    ledger.reset();
    auto again = place.open_ledger(options);
    ASSERT_TRUE(again) << again.error().message;
    compare_balances(**again, "after restart");
    const auto report2 = (*again)->audit();
    EXPECT_TRUE(report2.passed()) << report2.text();
    std::printf("%zu submissions, %zu events, %lld journal entries, %llu batches\n", all.size(), events,
                static_cast<long long>((*again)->head().count),
                static_cast<unsigned long long>(batches));

    // Every named outcome must actually have been exercised (the rarest are printed, to keep
    // the workload's mix honest).
    std::map<R, int> counts;
    for (const Submission& s : all) {
        for (const R r : s.results) ++counts[r];
    }
    std::vector<std::pair<int, R>> rare;
    for (const auto& [r, n] : counts) rare.emplace_back(n, r);
    std::sort(rare.begin(), rare.end());
    std::string rarest;
    for (std::size_t i = 0; i < std::min<std::size_t>(6, rare.size()); ++i) {
        rarest += std::string(result_name(rare[i].second)) + "=" + std::to_string(rare[i].first) + " ";
    }
    std::printf("rarest results: %s\n", rarest.c_str());
    for (int r = 0; r <= kTransferResultMax; ++r) {
        EXPECT_TRUE(seen.contains(static_cast<R>(r))) << "never occurred: " << result_name(static_cast<R>(r));
    }
    for (int r = 0; r <= kCreateAccountResultMax; ++r) {
        EXPECT_TRUE(seen_accounts.contains(static_cast<A>(r)))
            << "never occurred (accounts): " << result_name(static_cast<A>(r));
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::param_name);

}  // namespace model_test
}  // namespace
}  // namespace satload::ledger
