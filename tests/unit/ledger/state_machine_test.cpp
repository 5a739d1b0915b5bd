// Pins down the ledger's rules on the pure state machine: each named result, idempotency,
// atomic linked groups, recorded failures, two-phase transfers with expiry, overflow, and
// rollback of a batch whose commit failed.
#include "ledger/state_machine.h"

#include <gtest/gtest.h>

#include <unordered_map>

namespace satload::ledger {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace state_machine_test {

using R = TransferResult;
namespace tf = transfer_flags;

constexpr std::int64_t kSecondNs = 1'000'000'000;

Id128 id(std::uint64_t n) { return Id128{0, n}; }

// Drives the state machine the way the writer does, with an in-memory map standing in for
// the store's records (updated from the emitted journal entries, as a store would).
class Harness {
public:
    Harness() {
        std::vector<Account> accounts;
        for (std::uint64_t a = 1; a <= 4; ++a) {
            accounts.push_back(account(a, AccountKind::user_wallet,
                                       account_flags::debits_must_not_exceed_credits));
        }
        accounts.push_back(account(10, AccountKind::onchain_assets, 0));
        accounts.push_back(account(11, AccountKind::platform_revenue, 0));
        accounts.push_back(account(12, AccountKind::receivable,
                                   account_flags::credits_must_not_exceed_debits));
        for (const auto& o : create_accounts(accounts)) EXPECT_EQ(o.result, CreateAccountResult::ok);
    }

    static Account account(std::uint64_t n, AccountKind kind, std::uint16_t flags) {
        Account a;
        a.id = id(n);
        a.kind = kind;
        a.flags = flags;
        a.owner = kind == AccountKind::user_wallet ? "user" + std::to_string(n) : "";
        return a;
    }

    std::vector<AccountOutcome> create_accounts(const std::vector<Account>& accounts) {
        sm.begin_batch();
        auto out = sm.create_accounts(accounts, now_ns);
        absorb();
        sm.commit_batch();
        return out;
    }

    std::vector<TransferOutcome> submit(const std::vector<Transfer>& transfers) {
        sm.begin_batch();
        for (const Id128& i : sm.ids_to_prefetch(transfers)) {
            const auto it = records.find(i);
            sm.provide(i, it == records.end() ? std::nullopt : std::optional(it->second));
        }
        auto out = sm.create_transfers(transfers, now_ns);
        absorb();
        sm.commit_batch();
        return out;
    }

    R one(const Transfer& t) { return submit({t})[0].result; }

    std::int64_t balance(std::uint64_t n) const { return sm.find_account(id(n))->balance_msat(); }
    const Account& acc(std::uint64_t n) const { return *sm.find_account(id(n)); }

    StateMachine sm;
    std::unordered_map<Id128, KnownTransfer, Id128Hash> records;
    std::vector<JournalEntry> journal;
    std::int64_t now_ns = 1'000 * kSecondNs;

private:
    void absorb() {
        for (const JournalEntry& e : sm.batch_entries()) {
            journal.push_back(e);
            const Transfer t = entry_transfer(e);
            switch (e.kind) {
                case EntryKind::account: break;
                case EntryKind::transfer:
                    records[t.id] = KnownTransfer{
                        t, std::nullopt,
                        (t.flags & tf::pending) ? std::optional(PendingStatus::pending) : std::nullopt};
                    if (t.flags & tf::post_pending) records[t.pending_id].status = PendingStatus::posted;
                    if (t.flags & tf::void_pending) records[t.pending_id].status = PendingStatus::voided;
                    break;
                case EntryKind::failure:
                    records[t.id] = KnownTransfer{t, static_cast<R>(e.result), std::nullopt};
                    break;
                case EntryKind::expiry: records[t.id].status = PendingStatus::expired; break;
            }
        }
    }
};

Transfer xfer(std::uint64_t n, std::uint64_t debit, std::uint64_t credit, std::int64_t amount,
              std::uint16_t flags = 0) {
    Transfer t;
    t.id = id(n);
    t.debit_account_id = id(debit);
    t.credit_account_id = id(credit);
    t.amount_msat = amount;
    t.code = transfer_code::adjustment;
    t.flags = flags;
    return t;
}

Transfer resolve(std::uint64_t n, std::uint64_t pending, std::uint64_t debit, std::uint64_t credit,
                 std::int64_t amount, std::uint16_t flag) {
    Transfer t = xfer(n, debit, credit, amount, flag);
    t.pending_id = id(pending);
    return t;
}

// A plain transfer moves the amount from the debit to the credit account, posted.
TEST(StateMachine, TransferMovesMoney) {
    Harness h;
    EXPECT_EQ(h.one(xfer(100, 10, 1, 5'000)), R::ok);
    EXPECT_EQ(h.balance(1), 5'000);
    EXPECT_EQ(h.balance(10), -5'000);
    EXPECT_EQ(h.one(xfer(101, 1, 2, 2'000)), R::ok);
    EXPECT_EQ(h.balance(1), 3'000);
    EXPECT_EQ(h.balance(2), 2'000);
}

// Each validation result is returned for the one defect it names, and changes nothing.
TEST(StateMachine, ValidationResults) {
    Harness h;
    auto with = [](auto change) {
        Transfer t = xfer(200, 10, 1, 1'000);
        change(t);
        return t;
    };
    EXPECT_EQ(h.one(with([](Transfer& t) { t.id = Id128{}; })), R::id_must_not_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.flags = 1U << 9; })), R::flags_invalid);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.flags = tf::pending | tf::void_pending; })),
              R::flags_are_mutually_exclusive);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.memo.assign(kMemoBytesMax + 1, 'm'); })),
              R::memo_too_long);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.pending_id = id(5); })), R::pending_id_must_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.flags = tf::post_pending; })),
              R::pending_id_must_not_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) {
                  t.flags = tf::void_pending;
                  t.pending_id = t.id;
              })),
              R::pending_id_must_be_different);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.timeout_s = 5; })),
              R::timeout_reserved_for_pending_transfer);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.debit_account_id = Id128{}; })),
              R::debit_account_id_must_not_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.credit_account_id = Id128{}; })),
              R::credit_account_id_must_not_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.credit_account_id = id(10); })),
              R::accounts_must_be_different);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.amount_msat = -5; })), R::amount_must_not_be_negative);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.amount_msat = kSupplyMsat + 1; })),
              R::amount_exceeds_supply);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.amount_msat = 0; })), R::amount_must_not_be_zero);
    EXPECT_EQ(h.one(with([](Transfer& t) { t.code = 0; })), R::code_must_not_be_zero);
    EXPECT_EQ(h.one(xfer(201, 99, 1, 1'000)), R::debit_account_not_found);
    EXPECT_EQ(h.one(xfer(202, 10, 98, 1'000)), R::credit_account_not_found);
    EXPECT_EQ(h.balance(1), 0);
    EXPECT_EQ(h.balance(10), 0);
    // Validation failures are not recorded: the same id, corrected, is applied.
    EXPECT_EQ(h.one(xfer(200, 10, 1, 1'000)), R::ok);
}

// Same id twice applies once and answers exists; the same id with a different field answers
// exists_with_different_<field> and changes nothing.
TEST(StateMachine, IdempotentById) {
    Harness h;
    EXPECT_EQ(h.one(xfer(300, 10, 1, 7'000)), R::ok);
    EXPECT_EQ(h.one(xfer(300, 10, 1, 7'000)), R::exists);
    EXPECT_EQ(h.one(xfer(300, 10, 1, 7'001)), R::exists_with_different_amount);
    EXPECT_EQ(h.one(xfer(300, 11, 1, 7'000)), R::exists_with_different_debit_account_id);
    EXPECT_EQ(h.one(xfer(300, 10, 2, 7'000)), R::exists_with_different_credit_account_id);
    EXPECT_EQ(h.one(xfer(300, 10, 1, 7'000, tf::pending)), R::exists_with_different_flags);
    Transfer t = xfer(300, 10, 1, 7'000);
    t.code = transfer_code::deposit;
    EXPECT_EQ(h.one(t), R::exists_with_different_code);
    t = xfer(300, 10, 1, 7'000);
    t.user_data = id(1);
    EXPECT_EQ(h.one(t), R::exists_with_different_user_data);
    t = xfer(300, 10, 1, 7'000);
    t.memo = "x";
    EXPECT_EQ(h.one(t), R::exists_with_different_memo);
    EXPECT_EQ(h.balance(1), 7'000);
    // Within one submission too.
    const auto out = h.submit({xfer(301, 10, 2, 1), xfer(301, 10, 2, 1), xfer(301, 10, 2, 2)});
    EXPECT_EQ(out[0].result, R::ok);
    EXPECT_EQ(out[1].result, R::exists);
    EXPECT_EQ(out[2].result, R::exists_with_different_amount);
    EXPECT_EQ(h.balance(2), 1);
}

// A retry's callers take ok and exists alike as applied; every other result, an "exists with
// a difference" included, is not.
TEST(StateMachine, AppliedMeansOkOrExistsOnly) {
    for (unsigned r = 0; r <= kTransferResultMax; ++r) {
        const auto result = static_cast<R>(r);
        EXPECT_EQ(applied(result), result == R::ok || result == R::exists) << result_name(result);
    }
}

// A wallet cannot go below zero; the failure is recorded, so retrying the id later (even once
// funds are there) returns the first result instead of applying it.
TEST(StateMachine, ExceedsCreditsIsRecordedForRetries) {
    Harness h;
    EXPECT_EQ(h.one(xfer(400, 1, 2, 1)), R::exceeds_credits);
    EXPECT_EQ(h.one(xfer(401, 10, 1, 1'000)), R::ok);
    EXPECT_EQ(h.one(xfer(400, 1, 2, 1)), R::exceeds_credits);
    EXPECT_EQ(h.balance(2), 0);
    EXPECT_EQ(h.one(xfer(402, 1, 2, 1'000)), R::ok);
    EXPECT_EQ(h.one(xfer(403, 1, 2, 1)), R::exceeds_credits);
}

// The transfer flag: one movement that must not overdraw an account that has no such account
// flag (platform revenue, 11), counting its reservations; other transfers still may. Refused
// on a post or void, which reserve nothing new.
TEST(StateMachine, TransferFlagKeepsItsDebitAccountFromGoingBelowZero) {
    Harness h;
    constexpr auto limited = tf::debits_must_not_exceed_credits;
    EXPECT_EQ(h.one(xfer(450, 11, 1, 1, limited)), R::exceeds_credits);
    EXPECT_EQ(h.one(xfer(451, 10, 11, 1'000)), R::ok);
    EXPECT_EQ(h.one(xfer(452, 11, 10, 600, tf::pending | limited)), R::ok);
    EXPECT_EQ(h.one(xfer(453, 11, 10, 401, tf::pending | limited)),
              R::exceeds_credits);  // 600 reserved
    EXPECT_EQ(h.one(xfer(454, 11, 10, 400, limited)), R::ok);
    EXPECT_EQ(h.acc(11).available_msat(), 0);
    EXPECT_EQ(h.one(xfer(455, 11, 10, 1)), R::ok);  // without the flag the account may go below
    EXPECT_EQ(h.acc(11).available_msat(), -1);
    EXPECT_EQ(h.one(resolve(456, 452, 11, 10, 600, tf::post_pending | limited)), R::flags_invalid);
    EXPECT_EQ(h.one(resolve(457, 452, 11, 10, 0, tf::void_pending | limited)), R::flags_invalid);
    EXPECT_EQ(h.one(resolve(458, 452, 11, 10, 600, tf::post_pending)), R::ok);
}

// The mirror flag: an account that may only be credited up to its debits.
TEST(StateMachine, ExceedsDebits) {
    Harness h;
    EXPECT_EQ(h.one(xfer(450, 10, 12, 5)), R::exceeds_debits);
    EXPECT_EQ(h.one(xfer(451, 12, 10, 5)), R::ok);
    EXPECT_EQ(h.one(xfer(452, 10, 12, 5)), R::ok);
    EXPECT_EQ(h.balance(12), 0);
}

// A linked group where one leg fails changes no balance at all; its legs answer
// linked_event_failed, the failing leg its own reason; a retry of the ids gets the same.
TEST(StateMachine, LinkedGroupIsAtomic) {
    Harness h;
    ASSERT_EQ(h.one(xfer(500, 10, 1, 1'000)), R::ok);
    const std::vector<Transfer> group = {xfer(501, 1, 2, 600, tf::linked),
                                         xfer(502, 1, 3, 600, tf::linked), xfer(503, 1, 11, 1)};
    const auto out = h.submit(group);
    EXPECT_EQ(out[0].result, R::linked_event_failed);
    EXPECT_EQ(out[1].result, R::exceeds_credits);
    EXPECT_EQ(out[2].result, R::linked_event_failed);
    EXPECT_EQ(h.balance(1), 1'000);
    EXPECT_EQ(h.balance(2), 0);
    EXPECT_EQ(h.balance(3), 0);
    const auto again = h.submit(group);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(again[i].result, out[i].result) << i;
    // A group that fits is applied whole; retried, every leg answers exists.
    const std::vector<Transfer> fits = {xfer(511, 1, 2, 400, tf::linked), xfer(512, 1, 3, 600)};
    EXPECT_EQ(h.submit(fits)[1].result, R::ok);
    EXPECT_EQ(h.balance(1), 0);
    const auto retried = h.submit(fits);
    EXPECT_EQ(retried[0].result, R::exists);
    EXPECT_EQ(retried[1].result, R::exists);
}

// A group failing on validation records nothing; legs that already existed say so.
TEST(StateMachine, GroupValidationFailureRecordsNothing) {
    Harness h;
    ASSERT_EQ(h.one(xfer(600, 10, 1, 1'000)), R::ok);
    const auto out = h.submit({xfer(600, 10, 1, 1'000, tf::linked), xfer(601, 10, 2, 5, tf::linked),
                               xfer(602, 10, 2, 0)});
    EXPECT_EQ(out[0].result, R::exists_with_different_flags);
    EXPECT_EQ(out[1].result, R::linked_event_failed);
    EXPECT_EQ(out[2].result, R::linked_event_failed);
    EXPECT_EQ(h.one(xfer(601, 10, 2, 5)), R::ok);
}

// A group that fails because one of its ids is a recorded failure records its new legs too,
// so each of them answers its first result when retried on its own.
TEST(StateMachine, GroupFailingOnRecordedFailureRecordsNewLegs) {
    Harness h;
    ASSERT_EQ(h.one(xfer(650, 10, 1, 1'000)), R::ok);
    // 651 is recorded as linked_event_failed (its group failed on 652).
    const auto first = h.submit({xfer(651, 1, 2, 5, tf::linked), xfer(652, 1, 3, 5'000)});
    ASSERT_EQ(first[0].result, R::linked_event_failed);
    ASSERT_EQ(first[1].result, R::exceeds_credits);
    // A new group reusing 651 fails on its record, and records its new leg 653.
    const auto out = h.submit({xfer(653, 1, 3, 5, tf::linked), xfer(651, 1, 2, 5)});
    EXPECT_EQ(out[0].result, R::linked_event_failed);
    EXPECT_EQ(out[1].result, R::linked_event_failed);
    EXPECT_EQ(h.one(xfer(653, 1, 3, 5, tf::linked)), R::linked_event_chain_open);
    EXPECT_EQ(h.one(xfer(653, 1, 3, 5)), R::linked_event_failed);
    EXPECT_EQ(h.balance(3), 0);
    EXPECT_EQ(h.balance(1), 1'000);
}

// A submission that ends inside a group fails the group: linked_event_chain_open.
TEST(StateMachine, OpenChainFails) {
    Harness h;
    const auto out = h.submit({xfer(700, 10, 1, 5), xfer(701, 10, 1, 5, tf::linked),
                               xfer(702, 10, 1, 5, tf::linked)});
    EXPECT_EQ(out[0].result, R::ok);
    EXPECT_EQ(out[1].result, R::linked_event_failed);
    EXPECT_EQ(out[2].result, R::linked_event_chain_open);
    EXPECT_EQ(h.balance(1), 5);
}

// Two-phase: a reservation counts against the wallet, a post moves part or all of it, a void
// releases it, and each later attempt names why it cannot apply.
TEST(StateMachine, TwoPhaseTransfers) {
    Harness h;
    ASSERT_EQ(h.one(xfer(800, 10, 1, 1'000)), R::ok);
    EXPECT_EQ(h.one(xfer(801, 1, 11, 700, tf::pending)), R::ok);
    EXPECT_EQ(h.acc(1).debits_pending_msat, 700);
    EXPECT_EQ(h.one(xfer(802, 1, 11, 301)), R::exceeds_credits);  // reservation counts
    EXPECT_EQ(h.one(resolve(803, 999, 1, 11, 5, tf::post_pending)), R::pending_transfer_not_found);
    EXPECT_EQ(h.one(resolve(804, 800, 10, 1, 5, tf::post_pending)), R::pending_transfer_not_pending);
    EXPECT_EQ(h.one(resolve(805, 801, 2, 11, 5, tf::post_pending)),
              R::pending_transfer_has_different_debit_account_id);
    EXPECT_EQ(h.one(resolve(806, 801, 1, 10, 5, tf::post_pending)),
              R::pending_transfer_has_different_credit_account_id);
    EXPECT_EQ(h.one(resolve(807, 801, 1, 11, 701, tf::post_pending)),
              R::exceeds_pending_transfer_amount);
    EXPECT_EQ(h.one(resolve(808, 801, 1, 11, 5, tf::void_pending)),
              R::pending_transfer_has_different_amount);
    EXPECT_EQ(h.one(resolve(809, 801, 1, 11, 500, tf::post_pending)), R::ok);  // partial post
    EXPECT_EQ(h.acc(1).debits_pending_msat, 0);
    EXPECT_EQ(h.balance(1), 500);
    EXPECT_EQ(h.balance(11), 500);
    EXPECT_EQ(h.one(resolve(810, 801, 1, 11, 0, tf::void_pending)),
              R::pending_transfer_already_posted);
    EXPECT_EQ(h.one(xfer(811, 1, 11, 100, tf::pending)), R::ok);
    EXPECT_EQ(h.one(resolve(812, 811, 1, 11, 0, tf::void_pending)), R::ok);
    EXPECT_EQ(h.one(resolve(812, 811, 1, 11, 100, tf::void_pending)), R::exists);
    EXPECT_EQ(h.one(resolve(813, 811, 1, 11, 100, tf::post_pending)),
              R::pending_transfer_already_voided);
    EXPECT_EQ(h.balance(1), 500);
    EXPECT_EQ(h.acc(1).debits_pending_msat, 0);
    EXPECT_EQ(h.acc(11).credits_pending_msat, 0);
}

// A pending transfer with a timeout expires at its deadline: the reservation is released
// (and journaled), and a later post answers pending_transfer_expired. No timeout, no expiry.
TEST(StateMachine, PendingTransfersExpire) {
    Harness h;
    ASSERT_EQ(h.one(xfer(900, 10, 1, 1'000)), R::ok);
    Transfer p = xfer(901, 1, 11, 400, tf::pending);
    p.timeout_s = 2;
    ASSERT_EQ(h.one(p), R::ok);
    ASSERT_EQ(h.one(xfer(902, 1, 11, 600, tf::pending)), R::ok);  // never expires
    h.now_ns += 2 * kSecondNs - 5;
    EXPECT_EQ(h.one(xfer(903, 1, 2, 1)), R::exceeds_credits);  // still reserved
    h.now_ns += 100;
    EXPECT_EQ(h.one(resolve(904, 901, 1, 11, 400, tf::post_pending)), R::pending_transfer_expired);
    EXPECT_EQ(h.acc(1).debits_pending_msat, 600);
    EXPECT_EQ(h.sm.open_pending_count(), 1U);
    EXPECT_EQ(h.journal.back().kind, EntryKind::failure);
    EXPECT_EQ(h.journal[h.journal.size() - 2].kind, EntryKind::expiry);
    h.now_ns += 1'000'000 * kSecondNs;
    EXPECT_EQ(h.one(resolve(905, 902, 1, 11, 600, tf::post_pending)), R::ok);
}

// Totals that would pass 2^63 are refused (on accounts with no balance limit).
TEST(StateMachine, OverflowIsRefused) {
    Harness h;
    for (std::uint64_t i = 0; i < 4; ++i) {
        ASSERT_EQ(h.one(xfer(1000 + i, 10, 11, kSupplyMsat)), R::ok) << i;
    }
    EXPECT_EQ(h.one(xfer(1010, 10, 2, kSupplyMsat)), R::overflows_debits);
    EXPECT_EQ(h.one(xfer(1011, 2, 11, 1)), R::exceeds_credits);
    EXPECT_EQ(h.one(xfer(1012, 12, 11, kSupplyMsat)), R::overflows_credits);
    EXPECT_EQ(h.acc(10).debits_posted_msat, 4 * kSupplyMsat);
}

// Every event gets a unique, increasing timestamp even when the clock stands still.
TEST(StateMachine, TimestampsAreUniqueAndIncreasing) {
    Harness h;
    const auto out = h.submit({xfer(1100, 10, 1, 1), xfer(1101, 1, 2, 5), xfer(1102, 10, 1, 1)});
    EXPECT_LT(out[0].timestamp_ns, out[1].timestamp_ns);
    EXPECT_LT(out[1].timestamp_ns, out[2].timestamp_ns);
    EXPECT_GE(out[0].timestamp_ns, h.now_ns);
}

// A batch whose commit failed is rolled back completely: balances, pendings, records.
TEST(StateMachine, RollbackBatchRestoresEverything) {
    Harness h;
    ASSERT_EQ(h.one(xfer(1200, 10, 1, 1'000)), R::ok);
    const Account before = h.acc(1);
    h.sm.begin_batch();
    for (const Id128& i : h.sm.ids_to_prefetch(std::vector{xfer(1201, 1, 2, 5, tf::pending)})) {
        h.sm.provide(i, std::nullopt);
    }
    const auto out = h.sm.create_transfers(std::vector{xfer(1201, 1, 2, 5, tf::pending)}, h.now_ns);
    EXPECT_EQ(out[0].result, R::ok);
    EXPECT_EQ(h.sm.open_pending_count(), 1U);
    h.sm.rollback_batch();
    EXPECT_EQ(h.acc(1), before);
    EXPECT_EQ(h.sm.open_pending_count(), 0U);
    EXPECT_EQ(h.one(xfer(1201, 1, 2, 5, tf::pending)), R::ok);  // the id is still new
}

// Account creation has its own named results and is idempotent.
TEST(StateMachine, AccountResults) {
    Harness h;
    using A = CreateAccountResult;
    auto one = [&](Account a) { return h.create_accounts({a})[0].result; };
    Account a = Harness::account(50, AccountKind::user_wallet, 0);
    EXPECT_EQ(one(a), A::ok);
    EXPECT_EQ(one(a), A::exists);
    Account b = a;
    b.kind = AccountKind::receivable;
    EXPECT_EQ(one(b), A::exists_with_different_kind);
    b = a;
    b.flags = account_flags::debits_must_not_exceed_credits;
    EXPECT_EQ(one(b), A::exists_with_different_flags);
    b = a;
    b.owner = "other";
    EXPECT_EQ(one(b), A::exists_with_different_owner);
    b.id = Id128{};
    EXPECT_EQ(one(b), A::id_must_not_be_zero);
    b.id = id(51);
    b.kind = static_cast<AccountKind>(0);
    EXPECT_EQ(one(b), A::kind_invalid);
    b.kind = AccountKind::receivable;
    b.flags = 1U << 7;
    EXPECT_EQ(one(b), A::flags_invalid);
    b.flags = account_flags::all;
    EXPECT_EQ(one(b), A::flags_are_mutually_exclusive);
    b.flags = 0;
    b.owner.assign(kOwnerBytesMax + 1, 'o');
    EXPECT_EQ(one(b), A::owner_too_long);
    EXPECT_EQ(h.sm.find_account(id(51)), nullptr);
}

// Result names are distinct and stable (they appear in logs and API answers).
TEST(StateMachine, ResultNamesAreDistinct) {
    std::set<std::string_view> names;
    for (int r = 0; r <= kTransferResultMax; ++r) {
        const auto name = result_name(static_cast<R>(r));
        EXPECT_NE(name, "unknown");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
}

}  // namespace state_machine_test
}  // namespace
}  // namespace satload::ledger
