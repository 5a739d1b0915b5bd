// An independent reference model of the ledger's rules for the randomized test: written
// separately from state_machine.cpp, in the simplest way (ordered maps, 128-bit arithmetic,
// a copy of the state to undo a failed group), from the rules as stated in
// state_machine.h's header comment. It replays submissions in the order the ledger applied
// them and predicts every result and every final balance.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "ledger/types.h"

namespace satload::ledger::testing {

class ReferenceModel {
public:
    using R = TransferResult;
    using A = CreateAccountResult;
    __extension__ typedef __int128 Wide;

    struct Balance {
        AccountKind kind = AccountKind::user_wallet;
        std::uint16_t flags = 0;
        std::string owner;
        std::int64_t debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
    };

    enum class Status { applied, pending, posted, voided, expired, failed };
    struct Record {
        Transfer transfer;  // as submitted (a void's amount: the released amount)
        Status status = Status::applied;
        R failure = R::ok;
        std::optional<std::int64_t> deadline_ns;
    };

    std::map<Id128, Balance> accounts;
    std::map<Id128, Record> transfers;

    std::vector<A> create_accounts(const std::vector<Account>& events) {
        std::vector<A> out;
        for (const Account& a : events) out.push_back(create_account(a));
        return out;
    }

    // `timestamps` are the ones the ledger gave these events.
    std::vector<R> create_transfers(const std::vector<Transfer>& events,
                                    const std::vector<std::int64_t>& timestamps) {
        std::vector<R> out(events.size(), R::ok);
        std::size_t start = 0;
        while (start < events.size()) {
            std::size_t end = start;  // inclusive
            while (end < events.size() && has(events[end], transfer_flags::linked)) ++end;
            const bool open = end == events.size();
            if (open) end = events.size() - 1;
            expire(timestamps[start]);

            const std::map<Id128, Balance> saved_accounts = accounts;
            std::map<Id128, std::optional<Record>> saved_records;
            auto save = [&](Id128 id) {
                if (saved_records.count(id)) return;
                const auto it = transfers.find(id);
                saved_records[id] = it == transfers.end() ? std::nullopt : std::optional(it->second);
            };

            std::optional<std::size_t> failed;
            R failure = R::ok;
            bool failed_on_record = false;
            if (open) {
                failed = end;
                failure = R::linked_event_chain_open;
            } else {
                for (std::size_t i = start; i <= end; ++i) {
                    const Transfer& t = events[i];
                    R r = check(t);
                    if (r == R::ok) {
                        if (const auto p = previously(t)) {
                            r = *p;
                            failed_on_record = transfers.at(t.id).status == Status::failed;
                        } else {
                            save(t.id);
                            save(t.pending_id);
                            r = apply(t, timestamps[i]);
                        }
                    }
                    out[i] = r;
                    if (r != R::ok && r != R::exists) {
                        failed = i;
                        failure = r;
                        break;
                    }
                    failed_on_record = false;
                }
            }
            if (failed) {
                accounts = saved_accounts;
                for (auto& [id, record] : saved_records) {
                    if (record) {
                        transfers[id] = *record;
                    } else {
                        transfers.erase(id);
                    }
                }
                std::vector<std::optional<R>> before(end - start + 1);
                for (std::size_t i = start; i <= end; ++i) {
                    if (check(events[i]) == R::ok) before[i - start] = previously(events[i]);
                    out[i] = i == *failed ? failure
                                          : (before[i - start] ? *before[i - start] : R::linked_event_failed);
                }
                const bool stateful = failure >= R::debit_account_not_found;
                if (stateful || failed_on_record) {
                    for (std::size_t i = start; i <= end; ++i) {
                        const Transfer& t = events[i];
                        if (check(t) != R::ok || before[i - start] || transfers.count(t.id)) continue;
                        Record rec;
                        rec.transfer = t;
                        rec.status = Status::failed;
                        rec.failure = i == *failed ? failure : R::linked_event_failed;
                        transfers[t.id] = rec;
                    }
                }
            }
            start = end + 1;
        }
        return out;
    }

private:
    static bool has(const Transfer& t, std::uint16_t flag) { return (t.flags & flag) != 0; }

    A create_account(const Account& a) {
        if (a.id.is_zero()) return A::id_must_not_be_zero;
        const auto kind = static_cast<int>(a.kind);
        if (kind < 1 || kind > 7) return A::kind_invalid;
        if (a.flags > 3) return A::flags_invalid;
        if (a.flags == 3) return A::flags_are_mutually_exclusive;
        if (a.owner.size() > 128) return A::owner_too_long;
        const auto it = accounts.find(a.id);
        if (it != accounts.end()) {
            if (it->second.kind != a.kind) return A::exists_with_different_kind;
            if (it->second.flags != a.flags) return A::exists_with_different_flags;
            if (it->second.owner != a.owner) return A::exists_with_different_owner;
            return A::exists;
        }
        Balance b;
        b.kind = a.kind;
        b.flags = a.flags;
        b.owner = a.owner;
        accounts[a.id] = b;
        return A::ok;
    }

    // Validation of the event alone, in the documented order.
    static R check(const Transfer& t) {
        if (t.id.is_zero()) return R::id_must_not_be_zero;
        if (t.flags >= 32) return R::flags_invalid;
        const int kinds = has(t, transfer_flags::pending) + has(t, transfer_flags::post_pending) +
                          has(t, transfer_flags::void_pending);
        if (kinds >= 2) return R::flags_are_mutually_exclusive;
        if (t.memo.size() > 200) return R::memo_too_long;
        const bool resolves = has(t, transfer_flags::post_pending) || has(t, transfer_flags::void_pending);
        if (resolves && has(t, transfer_flags::debits_must_not_exceed_credits))
            return R::flags_invalid;
        if (resolves && t.pending_id.is_zero()) return R::pending_id_must_not_be_zero;
        if (resolves && t.pending_id == t.id) return R::pending_id_must_be_different;
        if (!resolves && !t.pending_id.is_zero()) return R::pending_id_must_be_zero;
        if (t.timeout_s > 0 && !has(t, transfer_flags::pending)) {
            return R::timeout_reserved_for_pending_transfer;
        }
        if (t.debit_account_id.is_zero()) return R::debit_account_id_must_not_be_zero;
        if (t.credit_account_id.is_zero()) return R::credit_account_id_must_not_be_zero;
        if (t.debit_account_id == t.credit_account_id) return R::accounts_must_be_different;
        if (t.amount_msat < 0) return R::amount_must_not_be_negative;
        if (t.amount_msat > 2'100'000'000'000'000'000) return R::amount_exceeds_supply;
        if (t.amount_msat == 0 && !has(t, transfer_flags::void_pending)) return R::amount_must_not_be_zero;
        if (t.code == 0) return R::code_must_not_be_zero;
        return R::ok;
    }

    // The answer for an id seen before, or nullopt for a new id.
    std::optional<R> previously(const Transfer& t) const {
        const auto it = transfers.find(t.id);
        if (it == transfers.end()) return std::nullopt;
        const Record& rec = it->second;
        if (rec.status == Status::failed) return rec.failure;
        const Transfer& e = rec.transfer;
        if (t.flags != e.flags) return R::exists_with_different_flags;
        if (t.debit_account_id != e.debit_account_id) return R::exists_with_different_debit_account_id;
        if (t.credit_account_id != e.credit_account_id) return R::exists_with_different_credit_account_id;
        const bool void_all = has(t, transfer_flags::void_pending) && t.amount_msat == 0;
        if (t.amount_msat != e.amount_msat && !void_all) return R::exists_with_different_amount;
        if (t.pending_id != e.pending_id) return R::exists_with_different_pending_id;
        if (t.timeout_s != e.timeout_s) return R::exists_with_different_timeout;
        if (t.code != e.code) return R::exists_with_different_code;
        if (t.user_data != e.user_data) return R::exists_with_different_user_data;
        if (t.memo != e.memo) return R::exists_with_different_memo;
        return R::exists;
    }

    static bool fits(Wide v) { return v <= Wide{INT64_MAX}; }

    R apply(const Transfer& t, std::int64_t ts) {
        if (!has(t, transfer_flags::post_pending) && !has(t, transfer_flags::void_pending)) {
            if (!accounts.count(t.debit_account_id)) return R::debit_account_not_found;
            if (!accounts.count(t.credit_account_id)) return R::credit_account_not_found;
            Balance& d = accounts[t.debit_account_id];
            Balance& c = accounts[t.credit_account_id];
            const Wide a = t.amount_msat;
            const bool pending = has(t, transfer_flags::pending);
            if (!fits((pending ? d.debits_pending : d.debits_posted) + a) ||
                !fits(Wide{d.debits_pending} + d.debits_posted + a)) {
                return R::overflows_debits;
            }
            if (!fits((pending ? c.credits_pending : c.credits_posted) + a) ||
                !fits(Wide{c.credits_pending} + c.credits_posted + a)) {
                return R::overflows_credits;
            }
            const bool limited =
                (d.flags & 1) || has(t, transfer_flags::debits_must_not_exceed_credits);
            if (limited && Wide{d.debits_pending} + d.debits_posted + a > d.credits_posted) {
                return R::exceeds_credits;
            }
            if ((c.flags & 2) && Wide{c.credits_pending} + c.credits_posted + a > c.debits_posted) {
                return R::exceeds_debits;
            }
            Record rec;
            rec.transfer = t;
            if (pending) {
                d.debits_pending += t.amount_msat;
                c.credits_pending += t.amount_msat;
                rec.status = Status::pending;
                if (t.timeout_s > 0) rec.deadline_ns = ts + std::int64_t{t.timeout_s} * 1'000'000'000;
            } else {
                d.debits_posted += t.amount_msat;
                c.credits_posted += t.amount_msat;
            }
            transfers[t.id] = rec;
            return R::ok;
        }
        const auto it = transfers.find(t.pending_id);
        if (it == transfers.end() || it->second.status == Status::failed) {
            return R::pending_transfer_not_found;
        }
        Record& p = it->second;
        if (!has(p.transfer, transfer_flags::pending)) return R::pending_transfer_not_pending;
        if (p.transfer.debit_account_id != t.debit_account_id) {
            return R::pending_transfer_has_different_debit_account_id;
        }
        if (p.transfer.credit_account_id != t.credit_account_id) {
            return R::pending_transfer_has_different_credit_account_id;
        }
        if (p.status == Status::posted) return R::pending_transfer_already_posted;
        if (p.status == Status::voided) return R::pending_transfer_already_voided;
        if (p.status == Status::expired) return R::pending_transfer_expired;
        const bool post = has(t, transfer_flags::post_pending);
        const std::int64_t reserved = p.transfer.amount_msat;
        if (post && t.amount_msat > reserved) return R::exceeds_pending_transfer_amount;
        if (!post && t.amount_msat != 0 && t.amount_msat != reserved) {
            return R::pending_transfer_has_different_amount;
        }
        Balance& d = accounts[t.debit_account_id];
        Balance& c = accounts[t.credit_account_id];
        const std::int64_t moved = post ? t.amount_msat : 0;
        if (!fits(Wide{d.debits_posted} + moved)) return R::overflows_debits;
        if (!fits(Wide{c.credits_posted} + moved)) return R::overflows_credits;
        d.debits_pending -= reserved;
        c.credits_pending -= reserved;
        d.debits_posted += moved;
        c.credits_posted += moved;
        p.status = post ? Status::posted : Status::voided;
        Record rec;
        rec.transfer = t;
        if (!post) rec.transfer.amount_msat = reserved;
        transfers[t.id] = rec;
        return R::ok;
    }

    void expire(std::int64_t now_ns) {
        for (auto& [id, rec] : transfers) {
            if (rec.status == Status::pending && rec.deadline_ns && *rec.deadline_ns <= now_ns) {
                rec.status = Status::expired;
                accounts[rec.transfer.debit_account_id].debits_pending -= rec.transfer.amount_msat;
                accounts[rec.transfer.credit_account_id].credits_pending -= rec.transfer.amount_msat;
            }
        }
    }
};

}  // namespace satload::ledger::testing
