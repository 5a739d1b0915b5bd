// The ledger's rules as a pure state machine (no I/O): it applies submissions of accounts or
// transfers to in-memory state, returns one named result per event, and emits the journal
// entries that make the change durable. The batching writer (ledger.h) feeds it and persists
// what it emits; the store is only the durable record.
//
// Semantics, in full (tests/unit/ledger/reference_model.h re-implements them independently):
//  - Every event gets a timestamp: max(now_ns, previous + 1), unique and increasing.
//  - Transfers form linked groups: a group is a maximal run of events with the `linked` flag
//    plus the event that follows; a single event is a group of one. A submission that ends
//    inside a group fails that group with linked_event_chain_open on its last event.
//  - Before a group is applied at the timestamp t0 of its first event, every pending transfer
//    whose deadline (its timestamp + timeout_s) is at or before t0 expires: its reservation is
//    released and an expiry entry is journaled.
//  - Each event is checked in the order of TransferResult: validation of the event alone,
//    then (if its id was seen before) `exists`/`exists_with_different_*` or the recorded
//    failure, then the state-dependent checks; `ok` applies it at once, so later events of
//    the same group or submission see its effect.
//  - A group fails at its first event whose result is neither ok nor exists. Then nothing of
//    the group is applied and the results are: the failing event keeps its result; any other
//    event whose id was already known keeps what a lone retry of it would answer (exists,
//    exists_with_different_*, or its recorded failure); every other event gets
//    linked_event_failed.
//  - If the failing result is state-dependent (is_state_dependent) or a recorded failure, each
//    valid event of the group with a new id is recorded as a failure entry (the failing one
//    with its result, the others with linked_event_failed), so a retry of the same ids gets
//    the first result again. Validation failures record nothing.
//  - post_pending moves amount (1..pending amount) from pending to posted and releases the
//    rest; void_pending releases all (amount 0 or the pending amount). Both must name the
//    pending transfer's accounts. No balance limit applies to a post: it was reserved.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ledger/journal.h"
#include "ledger/types.h"

namespace satload::ledger {

// What is known about a transfer id: an applied transfer (with its pending status when it is
// a pending transfer) or a recorded failure.
struct KnownTransfer {
    Transfer transfer;
    std::optional<TransferResult> failure;  // set: the id failed with this result
    std::optional<PendingStatus> status;    // set for applied pending transfers

    friend bool operator==(const KnownTransfer&, const KnownTransfer&) = default;
};

// Deadline of a pending transfer, or nullopt when it never expires.
[[nodiscard]] std::optional<std::int64_t> pending_deadline_ns(const Transfer& pending);

// The checks that need nothing but the event itself.
[[nodiscard]] TransferResult validate_transfer(const Transfer& t);
[[nodiscard]] CreateAccountResult validate_account(const Account& a);

class StateMachine {
public:
    StateMachine() = default;
    StateMachine(const StateMachine&) = delete;
    StateMachine& operator=(const StateMachine&) = delete;

    // --- Loading the durable state at startup.
    void load_account(const Account& account);
    void load_open_pending(const Transfer& pending);
    void load_last_timestamp(std::int64_t timestamp_ns);
    // The largest transfer id the store holds: any id above it is new without asking the
    // store, which makes time-ordered ids (time_ordered_id) cheap to check.
    void load_max_transfer_id(Id128 id);

    // --- Prefetch: the ids (transfer ids and pending ids) whose records must be provided
    // before these transfers are applied; then provide() each, nullopt meaning "no such id".
    [[nodiscard]] std::vector<Id128> ids_to_prefetch(std::span<const Transfer> transfers) const;
    // The same for several submissions: appends ids not yet in `seen` to `out`.
    void add_ids_to_prefetch(std::span<const Transfer> transfers, std::vector<Id128>& out,
                             std::unordered_set<Id128, Id128Hash>& seen) const;
    void provide(Id128 id, std::optional<KnownTransfer> known);

    // --- One batch: begin, apply any number of submissions, take the entries, then commit
    // (after the entries are durable) or roll back (if persisting them failed).
    void begin_batch();
    [[nodiscard]] std::vector<AccountOutcome> create_accounts(std::span<const Account> accounts,
                                                              std::int64_t now_ns);
    [[nodiscard]] std::vector<TransferOutcome> create_transfers(
        std::span<const Transfer> transfers, std::int64_t now_ns);
    // Gives the batch's entries their seq, history links (updating each named account's
    // last_entry_seq) and hash, extending `head`. Call once, after the last submission.
    void seal_batch(JournalHead& head);
    // Entries emitted since begin_batch, in order (without seq and hash until sealed).
    [[nodiscard]] const std::vector<JournalEntry>& batch_entries() const { return m_entries; }
    std::vector<JournalEntry>& batch_entries_mut() { return m_entries; }
    // Accounts changed since begin_batch, with their new totals.
    [[nodiscard]] std::vector<Account> batch_dirty_accounts() const;
    void commit_batch();
    void rollback_batch();
    [[nodiscard]] bool in_batch() const { return m_in_batch; }

    // --- Reads.
    [[nodiscard]] const Account* find_account(Id128 id) const;
    [[nodiscard]] const std::unordered_map<Id128, Account, Id128Hash>& accounts() const {
        return m_accounts;
    }
    [[nodiscard]] std::size_t open_pending_count() const { return m_open.size(); }
    [[nodiscard]] std::int64_t last_timestamp_ns() const { return m_last_timestamp_ns; }

private:
    // Only the totals and the history head change after creation, so only they are saved.
    struct UndoAccount {
        Id128 id;
        bool created = false;  // undo = erase the account
        std::int64_t debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
        std::int64_t last_entry_seq = 0;
    };
    struct UndoKnown {
        Id128 id;
        std::optional<KnownTransfer> before;
    };
    struct UndoOpen {
        Id128 id;
        std::optional<Transfer> before;  // nullopt: it was not open
    };
    struct Mark {
        std::size_t accounts = 0;
        std::size_t known = 0;
        std::size_t open = 0;
        std::size_t entries = 0;
    };

    [[nodiscard]] Mark mark() const;
    void undo_to(const Mark& m);

    std::int64_t next_timestamp(std::int64_t now_ns);
    void expire_due(std::int64_t t0_ns);

    // Lookup through this batch's changes, the open pendings and the prefetched records.
    [[nodiscard]] std::optional<KnownTransfer> lookup(Id128 id) const;
    // exists / exists_with_different_* / the recorded failure, or nullopt for a new id.
    [[nodiscard]] std::optional<TransferResult> prior_result(const Transfer& t) const;
    [[nodiscard]] TransferResult evaluate(const Transfer& t, std::int64_t timestamp_ns);
    [[nodiscard]] TransferResult apply_new(const Transfer& t, std::int64_t timestamp_ns);

    // Mutations that keep an undo record.
    Account& mutable_account(Id128 id);
    void set_known(Id128 id, KnownTransfer known);
    void open_pending(const Transfer& t);
    void close_pending(Id128 id);

    std::unordered_map<Id128, Account, Id128Hash> m_accounts;
    // Applied pending transfers not yet posted, voided or expired, and their deadlines.
    std::unordered_map<Id128, Transfer, Id128Hash> m_open;
    std::set<std::pair<std::int64_t, Id128>> m_deadlines;
    // Records of ids this batch looked at or created; cleared when the batch ends.
    std::unordered_map<Id128, KnownTransfer, Id128Hash> m_known;
    std::unordered_set<Id128, Id128Hash> m_absent;  // prefetched and not found
    std::int64_t m_last_timestamp_ns = 0;
    Id128 m_max_stored_id;  // largest transfer id in the store (committed batches)

    bool m_in_batch = false;
    std::vector<JournalEntry> m_entries;
    std::unordered_set<Id128, Id128Hash> m_dirty;
    std::vector<UndoAccount> m_undo_accounts;
    std::vector<UndoKnown> m_undo_known;
    std::vector<UndoOpen> m_undo_open;
};

}  // namespace satload::ledger
