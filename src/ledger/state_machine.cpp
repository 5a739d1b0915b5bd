// The ledger's rules. Every check is named by a TransferResult; every write keeps an undo
// record so a failed group (or a batch whose commit failed) leaves no trace.
#include "ledger/state_machine.h"

#include <limits>

#include "core/check.h"

namespace satload::ledger {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

bool is_two_phase_resolution(const Transfer& t) {
    return (t.flags & (transfer_flags::post_pending | transfer_flags::void_pending)) != 0;
}

bool add_overflows(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    return __builtin_add_overflow(a, b, &out);
}

bool add3_overflows(std::int64_t a, std::int64_t b, std::int64_t c) {
    std::int64_t out = 0;
    return __builtin_add_overflow(a, b, &out) || __builtin_add_overflow(out, c, &out);
}

}  // namespace

std::optional<std::int64_t> pending_deadline_ns(const Transfer& pending) {
    if (pending.timeout_s == 0) return std::nullopt;
    std::int64_t deadline = 0;
    const std::int64_t timeout_ns = std::int64_t{pending.timeout_s} * kNsPerSecond;
    if (__builtin_add_overflow(pending.timestamp_ns, timeout_ns, &deadline)) {
        return std::numeric_limits<std::int64_t>::max();
    }
    return deadline;
}

TransferResult validate_transfer(const Transfer& t) {
    using R = TransferResult;
    namespace f = transfer_flags;
    if (t.id.is_zero()) return R::id_must_not_be_zero;
    if ((t.flags & ~f::all) != 0) return R::flags_invalid;
    const int phases = ((t.flags & f::pending) != 0) + ((t.flags & f::post_pending) != 0) +
                       ((t.flags & f::void_pending) != 0);
    if (phases > 1) return R::flags_are_mutually_exclusive;
    if (t.memo.size() > kMemoBytesMax) return R::memo_too_long;
    if (is_two_phase_resolution(t)) {
        if ((t.flags & f::debits_must_not_exceed_credits) != 0) return R::flags_invalid;
        if (t.pending_id.is_zero()) return R::pending_id_must_not_be_zero;
        if (t.pending_id == t.id) return R::pending_id_must_be_different;
    } else if (!t.pending_id.is_zero()) {
        return R::pending_id_must_be_zero;
    }
    if (t.timeout_s != 0 && (t.flags & f::pending) == 0) {
        return R::timeout_reserved_for_pending_transfer;
    }
    if (t.debit_account_id.is_zero()) return R::debit_account_id_must_not_be_zero;
    if (t.credit_account_id.is_zero()) return R::credit_account_id_must_not_be_zero;
    if (t.debit_account_id == t.credit_account_id) return R::accounts_must_be_different;
    if (t.amount_msat < 0) return R::amount_must_not_be_negative;
    if (t.amount_msat > kSupplyMsat) return R::amount_exceeds_supply;
    if (t.amount_msat == 0 && (t.flags & f::void_pending) == 0) return R::amount_must_not_be_zero;
    if (t.code == 0) return R::code_must_not_be_zero;
    return R::ok;
}

CreateAccountResult validate_account(const Account& a) {
    using R = CreateAccountResult;
    if (a.id.is_zero()) return R::id_must_not_be_zero;
    const auto kind = static_cast<std::uint16_t>(a.kind);
    if (kind == 0 || kind > kAccountKindMax) return R::kind_invalid;
    if ((a.flags & ~account_flags::all) != 0) return R::flags_invalid;
    if ((a.flags & account_flags::all) == account_flags::all) {
        return R::flags_are_mutually_exclusive;
    }
    if (a.owner.size() > kOwnerBytesMax) return R::owner_too_long;
    return R::ok;
}

// --- Loading.

void StateMachine::load_account(const Account& account) {
    SATLOAD_ASSERT(!m_in_batch);
    SATLOAD_ASSERT(validate_account(account) == CreateAccountResult::ok);
    m_accounts[account.id] = account;
}

void StateMachine::load_open_pending(const Transfer& pending) {
    SATLOAD_ASSERT(!m_in_batch);
    SATLOAD_ASSERT((pending.flags & transfer_flags::pending) != 0);
    m_open[pending.id] = pending;
    if (const auto deadline = pending_deadline_ns(pending)) {
        m_deadlines.emplace(*deadline, pending.id);
    }
}

void StateMachine::load_max_transfer_id(Id128 id) {
    SATLOAD_ASSERT(!m_in_batch);
    m_max_stored_id = id;
}

void StateMachine::load_last_timestamp(std::int64_t timestamp_ns) {
    SATLOAD_ASSERT(!m_in_batch);
    m_last_timestamp_ns = timestamp_ns;
}

// --- Prefetch.

std::vector<Id128> StateMachine::ids_to_prefetch(std::span<const Transfer> transfers) const {
    std::vector<Id128> out;
    std::unordered_set<Id128, Id128Hash> seen;
    add_ids_to_prefetch(transfers, out, seen);
    return out;
}

void StateMachine::add_ids_to_prefetch(std::span<const Transfer> transfers, std::vector<Id128>& out,
                                       std::unordered_set<Id128, Id128Hash>& seen) const {
    auto want = [&](Id128 id) {
        if (id.is_zero() || id > m_max_stored_id || m_known.contains(id) || m_open.contains(id) ||
            m_absent.contains(id)) {
            return;
        }
        if (seen.insert(id).second) out.push_back(id);
    };
    for (const Transfer& t : transfers) {
        want(t.id);
        want(t.pending_id);
    }
}

void StateMachine::provide(Id128 id, std::optional<KnownTransfer> known) {
    SATLOAD_ASSERT(m_in_batch);
    if (known) {
        SATLOAD_ASSERT(known->transfer.id == id);
        // An open pending transfer is already in memory; the store must agree.
        SATLOAD_ASSERT(!m_open.contains(id));
        m_known.emplace(id, std::move(*known));
    } else {
        m_absent.insert(id);
    }
}

// --- Batches and undo.

void StateMachine::begin_batch() {
    SATLOAD_ASSERT(!m_in_batch);
    SATLOAD_ASSERT(m_entries.empty() && m_dirty.empty());
    SATLOAD_ASSERT(m_undo_accounts.empty() && m_undo_known.empty() && m_undo_open.empty());
    m_in_batch = true;
}

void StateMachine::seal_batch(JournalHead& head) {
    SATLOAD_ASSERT(m_in_batch);
    crypto::Sha256 hasher;
    for (JournalEntry& e : m_entries) {
        SATLOAD_ASSERT(e.seq == 0);
        e.seq = head.count + 1;
        auto link = [&](Id128 account_id, std::int64_t& prev) {
            // A recorded failure may name an account that does not exist: it has no history.
            if (account_id.is_zero() || !m_accounts.contains(account_id)) return;
            Account& a = mutable_account(account_id);
            prev = a.last_entry_seq;
            a.last_entry_seq = e.seq;
        };
        if (e.kind == EntryKind::account) {
            std::int64_t none = 0;
            link(e.id, none);
            SATLOAD_ASSERT(none == 0);
            // Created in this batch, so a rollback erases it: no undo record needed.
            m_accounts.at(e.id).created_seq = e.seq;
        } else {
            link(e.debit_account_id, e.debit_prev_seq);
            link(e.credit_account_id, e.credit_prev_seq);
        }
        e.hash = chain_hash(hasher, head.hash, e);
        head.count = e.seq;
        head.hash = e.hash;
    }
}

std::vector<Account> StateMachine::batch_dirty_accounts() const {
    std::vector<Account> out;
    out.reserve(m_dirty.size());
    for (const Id128& id : m_dirty) {
        const auto it = m_accounts.find(id);
        if (it != m_accounts.end()) out.push_back(it->second);
    }
    return out;
}

void StateMachine::commit_batch() {
    SATLOAD_ASSERT(m_in_batch);
    for (const JournalEntry& e : m_entries) {
        if ((e.kind == EntryKind::transfer || e.kind == EntryKind::failure) && e.id > m_max_stored_id) {
            m_max_stored_id = e.id;
        }
    }
    m_in_batch = false;
    m_entries.clear();
    m_dirty.clear();
    m_undo_accounts.clear();
    m_undo_known.clear();
    m_undo_open.clear();
    // Prefetched records are only valid for the batch they were loaded for.
    m_known.clear();
    m_absent.clear();
}

void StateMachine::rollback_batch() {
    SATLOAD_ASSERT(m_in_batch);
    undo_to(Mark{});  // also drops the batch's entries, so commit_batch records no new ids
    commit_batch();
}

StateMachine::Mark StateMachine::mark() const {
    return Mark{m_undo_accounts.size(), m_undo_known.size(), m_undo_open.size(), m_entries.size()};
}

void StateMachine::undo_to(const Mark& m) {
    while (m_undo_accounts.size() > m.accounts) {
        const UndoAccount& u = m_undo_accounts.back();
        if (u.created) {
            m_accounts.erase(u.id);
        } else {
            Account& a = m_accounts.at(u.id);
            a.debits_pending_msat = u.debits_pending;
            a.debits_posted_msat = u.debits_posted;
            a.credits_pending_msat = u.credits_pending;
            a.credits_posted_msat = u.credits_posted;
            a.last_entry_seq = u.last_entry_seq;
        }
        m_undo_accounts.pop_back();
    }
    while (m_undo_known.size() > m.known) {
        UndoKnown& u = m_undo_known.back();
        if (u.before) {
            m_known[u.id] = std::move(*u.before);
        } else {
            m_known.erase(u.id);
        }
        m_undo_known.pop_back();
    }
    while (m_undo_open.size() > m.open) {
        UndoOpen& u = m_undo_open.back();
        const auto now_open = m_open.find(u.id);
        if (now_open != m_open.end()) {
            if (const auto d = pending_deadline_ns(now_open->second)) m_deadlines.erase({*d, u.id});
            m_open.erase(now_open);
        }
        if (u.before) {
            if (const auto d = pending_deadline_ns(*u.before)) m_deadlines.emplace(*d, u.id);
            m_open.emplace(u.id, std::move(*u.before));
        }
        m_undo_open.pop_back();
    }
    m_entries.resize(m.entries);
}

Account& StateMachine::mutable_account(Id128 id) {
    const auto it = m_accounts.find(id);
    SATLOAD_ASSERT(it != m_accounts.end());
    const Account& a = it->second;
    m_undo_accounts.push_back({id, false, a.debits_pending_msat, a.debits_posted_msat,
                               a.credits_pending_msat, a.credits_posted_msat, a.last_entry_seq});
    m_dirty.insert(id);
    return it->second;
}

void StateMachine::set_known(Id128 id, KnownTransfer known) {
    const auto it = m_known.find(id);
    m_undo_known.push_back(
        {id, it == m_known.end() ? std::nullopt : std::optional<KnownTransfer>(it->second)});
    m_known[id] = std::move(known);
}

void StateMachine::open_pending(const Transfer& t) {
    SATLOAD_ASSERT(!m_open.contains(t.id));
    m_undo_open.push_back({t.id, std::nullopt});
    m_open.emplace(t.id, t);
    if (const auto d = pending_deadline_ns(t)) m_deadlines.emplace(*d, t.id);
}

void StateMachine::close_pending(Id128 id) {
    const auto it = m_open.find(id);
    SATLOAD_ASSERT(it != m_open.end());
    m_undo_open.push_back({id, it->second});
    if (const auto d = pending_deadline_ns(it->second)) m_deadlines.erase({*d, id});
    m_open.erase(it);
}

std::int64_t StateMachine::next_timestamp(std::int64_t now_ns) {
    m_last_timestamp_ns = now_ns > m_last_timestamp_ns ? now_ns : m_last_timestamp_ns + 1;
    return m_last_timestamp_ns;
}

void StateMachine::expire_due(std::int64_t t0_ns) {
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= t0_ns) {
        const Id128 id = m_deadlines.begin()->second;
        const Transfer pending = m_open.at(id);
        close_pending(id);
        Account& debit = mutable_account(pending.debit_account_id);
        debit.debits_pending_msat -= pending.amount_msat;
        Account& credit = mutable_account(pending.credit_account_id);
        credit.credits_pending_msat -= pending.amount_msat;
        SATLOAD_ASSERT(debit.debits_pending_msat >= 0 && credit.credits_pending_msat >= 0);
        set_known(id, KnownTransfer{pending, std::nullopt, PendingStatus::expired});
        JournalEntry e = transfer_entry(pending, EntryKind::expiry, 0);
        e.pending_id = id;
        e.flags = 0;
        e.timeout_s = 0;
        e.timestamp_ns = t0_ns;
        m_entries.push_back(std::move(e));
    }
}

// --- Lookups.

const Account* StateMachine::find_account(Id128 id) const {
    const auto it = m_accounts.find(id);
    return it == m_accounts.end() ? nullptr : &it->second;
}

std::optional<KnownTransfer> StateMachine::lookup(Id128 id) const {
    if (const auto it = m_known.find(id); it != m_known.end()) return it->second;
    if (const auto it = m_open.find(id); it != m_open.end()) {
        return KnownTransfer{it->second, std::nullopt, PendingStatus::pending};
    }
    // Above the largest stored id nothing exists; below it, every id a batch looks up was
    // prefetched, and a miss here means the writer forgot one.
    if (id > m_max_stored_id) return std::nullopt;
    SATLOAD_ASSERT(m_absent.contains(id));
    return std::nullopt;
}

std::optional<TransferResult> StateMachine::prior_result(const Transfer& t) const {
    using R = TransferResult;
    const auto known = lookup(t.id);
    if (!known) return std::nullopt;
    if (known->failure) return *known->failure;
    const Transfer& e = known->transfer;
    if (t.flags != e.flags) return R::exists_with_different_flags;
    if (t.debit_account_id != e.debit_account_id) return R::exists_with_different_debit_account_id;
    if (t.credit_account_id != e.credit_account_id) {
        return R::exists_with_different_credit_account_id;
    }
    // A void recorded the released amount; "0" asked for exactly that.
    const bool void_full = (t.flags & transfer_flags::void_pending) != 0 && t.amount_msat == 0;
    if (t.amount_msat != e.amount_msat && !void_full) return R::exists_with_different_amount;
    if (t.pending_id != e.pending_id) return R::exists_with_different_pending_id;
    if (t.timeout_s != e.timeout_s) return R::exists_with_different_timeout;
    if (t.code != e.code) return R::exists_with_different_code;
    if (t.user_data != e.user_data) return R::exists_with_different_user_data;
    if (t.memo != e.memo) return R::exists_with_different_memo;
    return R::exists;
}

TransferResult StateMachine::evaluate(const Transfer& t, std::int64_t timestamp_ns) {
    if (const auto v = validate_transfer(t); v != TransferResult::ok) return v;
    if (const auto prior = prior_result(t)) return *prior;
    return apply_new(t, timestamp_ns);
}

TransferResult StateMachine::apply_new(const Transfer& t, std::int64_t timestamp_ns) {
    using R = TransferResult;
    namespace f = transfer_flags;
    const Account* debit = find_account(t.debit_account_id);
    const Account* credit = find_account(t.credit_account_id);
    Transfer applied = t;
    applied.timestamp_ns = timestamp_ns;

    if (!is_two_phase_resolution(t)) {
        if (debit == nullptr) return R::debit_account_not_found;
        if (credit == nullptr) return R::credit_account_not_found;
        const std::int64_t a = t.amount_msat;
        const bool pending = (t.flags & f::pending) != 0;
        const std::int64_t debit_side = pending ? debit->debits_pending_msat : debit->debits_posted_msat;
        const std::int64_t credit_side =
            pending ? credit->credits_pending_msat : credit->credits_posted_msat;
        if (add_overflows(debit_side, a) ||
            add3_overflows(debit->debits_pending_msat, debit->debits_posted_msat, a)) {
            return R::overflows_debits;
        }
        if (add_overflows(credit_side, a) ||
            add3_overflows(credit->credits_pending_msat, credit->credits_posted_msat, a)) {
            return R::overflows_credits;
        }
        const bool limited = (debit->flags & account_flags::debits_must_not_exceed_credits) != 0 ||
                             (t.flags & f::debits_must_not_exceed_credits) != 0;
        if (limited && debit->debits_pending_msat + debit->debits_posted_msat + a >
                           debit->credits_posted_msat) {
            return R::exceeds_credits;
        }
        if ((credit->flags & account_flags::credits_must_not_exceed_debits) != 0 &&
            credit->credits_pending_msat + credit->credits_posted_msat + a >
                credit->debits_posted_msat) {
            return R::exceeds_debits;
        }
        Account& d = mutable_account(t.debit_account_id);
        Account& c = mutable_account(t.credit_account_id);
        if (pending) {
            d.debits_pending_msat += a;
            c.credits_pending_msat += a;
            open_pending(applied);
            set_known(t.id, KnownTransfer{applied, std::nullopt, PendingStatus::pending});
        } else {
            d.debits_posted_msat += a;
            c.credits_posted_msat += a;
            set_known(t.id, KnownTransfer{applied, std::nullopt, std::nullopt});
        }
        m_entries.push_back(transfer_entry(applied, EntryKind::transfer, 0));
        return R::ok;
    }

    const auto found = lookup(t.pending_id);
    if (!found || found->failure) return R::pending_transfer_not_found;
    const Transfer& p = found->transfer;
    if ((p.flags & f::pending) == 0) return R::pending_transfer_not_pending;
    if (t.debit_account_id != p.debit_account_id) {
        return R::pending_transfer_has_different_debit_account_id;
    }
    if (t.credit_account_id != p.credit_account_id) {
        return R::pending_transfer_has_different_credit_account_id;
    }
    SATLOAD_ASSERT(found->status.has_value());
    switch (*found->status) {
        case PendingStatus::posted: return R::pending_transfer_already_posted;
        case PendingStatus::voided: return R::pending_transfer_already_voided;
        case PendingStatus::expired: return R::pending_transfer_expired;
        case PendingStatus::pending: break;
    }
    SATLOAD_ASSERT(debit != nullptr && credit != nullptr);
    const bool post = (t.flags & f::post_pending) != 0;
    if (post && t.amount_msat > p.amount_msat) return R::exceeds_pending_transfer_amount;
    if (!post && t.amount_msat != 0 && t.amount_msat != p.amount_msat) {
        return R::pending_transfer_has_different_amount;
    }
    const std::int64_t a = post ? t.amount_msat : 0;
    if (add_overflows(debit->debits_posted_msat, a)) return R::overflows_debits;
    if (add_overflows(credit->credits_posted_msat, a)) return R::overflows_credits;

    Account& d = mutable_account(p.debit_account_id);
    Account& c = mutable_account(p.credit_account_id);
    d.debits_pending_msat -= p.amount_msat;
    c.credits_pending_msat -= p.amount_msat;
    d.debits_posted_msat += a;
    c.credits_posted_msat += a;
    SATLOAD_ASSERT(d.debits_pending_msat >= 0 && c.credits_pending_msat >= 0);
    close_pending(p.id);
    set_known(p.id, KnownTransfer{p, std::nullopt,
                                  post ? PendingStatus::posted : PendingStatus::voided});
    if (!post) applied.amount_msat = p.amount_msat;
    set_known(t.id, KnownTransfer{applied, std::nullopt, std::nullopt});
    m_entries.push_back(transfer_entry(applied, EntryKind::transfer, 0));
    return R::ok;
}

// --- Submissions.

std::vector<AccountOutcome> StateMachine::create_accounts(std::span<const Account> accounts,
                                                          std::int64_t now_ns) {
    using R = CreateAccountResult;
    SATLOAD_ASSERT(m_in_batch);
    SATLOAD_ASSERT(accounts.size() <= kSubmissionEventsMax);
    std::vector<AccountOutcome> out;
    out.reserve(accounts.size());
    for (const Account& a : accounts) {
        const std::int64_t ts = next_timestamp(now_ns);
        R r = validate_account(a);
        if (r == R::ok) {
            if (const Account* existing = find_account(a.id)) {
                if (existing->kind != a.kind) {
                    r = R::exists_with_different_kind;
                } else if (existing->flags != a.flags) {
                    r = R::exists_with_different_flags;
                } else if (existing->owner != a.owner) {
                    r = R::exists_with_different_owner;
                } else {
                    r = R::exists;
                }
            } else {
                Account created;
                created.id = a.id;
                created.kind = a.kind;
                created.flags = a.flags;
                created.owner = a.owner;
                created.timestamp_ns = ts;
                m_undo_accounts.push_back({a.id, true, 0, 0, 0, 0, 0});
                m_dirty.insert(a.id);
                m_accounts.emplace(a.id, created);
                m_entries.push_back(account_entry(created));
            }
        }
        out.push_back({r, ts});
    }
    return out;
}

std::vector<TransferOutcome> StateMachine::create_transfers(std::span<const Transfer> transfers,
                                                            std::int64_t now_ns) {
    using R = TransferResult;
    SATLOAD_ASSERT(m_in_batch);
    SATLOAD_ASSERT(transfers.size() <= kSubmissionEventsMax);
    const std::size_t n = transfers.size();
    std::vector<TransferOutcome> out(n);
    std::size_t first = 0;
    while (first < n) {
        std::size_t last = first;
        while (last < n && (transfers[last].flags & transfer_flags::linked) != 0) ++last;
        const bool open_chain = last == n;
        if (open_chain) last = n - 1;
        for (std::size_t i = first; i <= last; ++i) out[i].timestamp_ns = next_timestamp(now_ns);

        const std::int64_t t0 = out[first].timestamp_ns;
        expire_due(t0);
        const Mark start = mark();

        std::optional<std::size_t> failed_at;
        R failure = R::ok;
        bool failure_was_recorded = false;
        if (open_chain) {
            failed_at = last;
            failure = R::linked_event_chain_open;
        } else {
            for (std::size_t i = first; i <= last; ++i) {
                const R r = evaluate(transfers[i], out[i].timestamp_ns);
                out[i].result = r;
                if (r != R::ok && r != R::exists) {
                    failed_at = i;
                    failure = r;
                    if (validate_transfer(transfers[i]) == R::ok) {
                        const auto known = lookup(transfers[i].id);
                        failure_was_recorded = known && known->failure.has_value();
                    }
                    break;
                }
            }
        }

        if (failed_at) {
            undo_to(start);
            const bool record = failure_was_recorded || is_state_dependent(failure);
            // Every answer is computed against the state at the start of the group, before
            // any failure of this group is recorded.
            std::vector<std::optional<R>> priors(last - first + 1);
            for (std::size_t i = first; i <= last; ++i) {
                const Transfer& t = transfers[i];
                if (validate_transfer(t) == R::ok) priors[i - first] = prior_result(t);
                if (i == *failed_at) {
                    out[i].result = failure;
                } else {
                    out[i].result = priors[i - first] ? *priors[i - first] : R::linked_event_failed;
                }
            }
            std::unordered_set<Id128, Id128Hash> recorded;
            for (std::size_t i = first; i <= last && record; ++i) {
                const Transfer& t = transfers[i];
                const bool valid = validate_transfer(t) == R::ok;
                if (valid && !priors[i - first] && recorded.insert(t.id).second) {
                    Transfer submitted = t;
                    submitted.timestamp_ns = out[i].timestamp_ns;
                    const R code = i == *failed_at ? failure : R::linked_event_failed;
                    set_known(t.id, KnownTransfer{submitted, code, std::nullopt});
                    m_entries.push_back(transfer_entry(submitted, EntryKind::failure,
                                                       static_cast<std::uint8_t>(code)));
                }
            }
        }
        first = last + 1;
    }
    return out;
}

}  // namespace satload::ledger
