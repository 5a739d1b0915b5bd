// The audit: an independent replay of the journal that checks chain, checkpoint, totals,
// uniqueness of ids and the balance invariants.
#include "ledger/audit.h"

#include <algorithm>
#include <unordered_map>

#include "ledger/checkpoint.h"

namespace satload::ledger {
namespace {

__extension__ typedef __int128 Wide;  // sums of many 64-bit totals

struct Totals {
    bool created = false;
    AccountKind kind = AccountKind::user_wallet;
    std::uint16_t flags = 0;
    std::string owner;
    std::int64_t debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
    std::int64_t last_seq = 0;  // the newest entry naming the account, by replay
    std::int64_t created_seq = 0;
};

struct OpenPending {
    Id128 debit, credit;
    std::int64_t amount = 0;
};

std::string wide_text(Wide v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    std::string out;
    while (v != 0) {
        const int digit = static_cast<int>(v % 10);
        out.insert(out.begin(), static_cast<char>('0' + (digit < 0 ? -digit : digit)));
        v /= 10;
    }
    return negative ? "-" + out : out;
}

class Replay {
public:
    std::unordered_map<Id128, Totals, Id128Hash> totals;
    std::unordered_map<Id128, OpenPending, Id128Hash> open;
    std::vector<Id128> transfer_ids;
    std::string violation;  // first inconsistency in the entries themselves

    void apply(const JournalEntry& e) {
        link(e);
        switch (e.kind) {
            case EntryKind::account: {
                Totals& t = totals[e.id];
                if (t.created) return bad(e, "creates account " + id_hex(e.id) + " a second time");
                t.created = true;
                t.last_seq = e.seq;
                t.created_seq = e.seq;
                t.kind = static_cast<AccountKind>(e.code);
                t.flags = e.flags;
                t.owner = e.memo;
                return;
            }
            case EntryKind::failure: transfer_ids.push_back(e.id); return;
            case EntryKind::expiry: {
                const auto it = open.find(e.id);
                if (it == open.end()) return bad(e, "expires a transfer that is not pending");
                release(it->second);
                open.erase(it);
                return;
            }
            case EntryKind::transfer: break;
        }
        transfer_ids.push_back(e.id);
        const Transfer t = entry_transfer(e);
        if (validate_transfer(t) != TransferResult::ok) {
            return bad(e, std::string("applied transfer is invalid: ") +
                              std::string(result_name(validate_transfer(t))));
        }
        Totals* debit = account(e, e.debit_account_id);
        Totals* credit = account(e, e.credit_account_id);
        if (debit == nullptr || credit == nullptr) return;
        if ((t.flags & transfer_flags::pending) != 0) {
            debit->debits_pending += t.amount_msat;
            credit->credits_pending += t.amount_msat;
            open[t.id] = OpenPending{t.debit_account_id, t.credit_account_id, t.amount_msat};
        } else if ((t.flags & (transfer_flags::post_pending | transfer_flags::void_pending)) != 0) {
            const auto it = open.find(t.pending_id);
            if (it == open.end()) return bad(e, "resolves a transfer that is not pending");
            if (it->second.debit != t.debit_account_id || it->second.credit != t.credit_account_id) {
                return bad(e, "resolves a pending transfer between other accounts");
            }
            const bool post = (t.flags & transfer_flags::post_pending) != 0;
            if (post ? t.amount_msat > it->second.amount : t.amount_msat != it->second.amount) {
                return bad(e, "resolves a pending transfer with a wrong amount");
            }
            release(it->second);
            open.erase(it);
            if (post) {
                debit->debits_posted += t.amount_msat;
                credit->credits_posted += t.amount_msat;
            }
        } else {
            debit->debits_posted += t.amount_msat;
            credit->credits_posted += t.amount_msat;
        }
    }

private:
    // Each entry's history links must point at the previous entry of the same account.
    void link(const JournalEntry& e) {
        if (e.kind == EntryKind::account) {
            if (e.debit_prev_seq != 0 || e.credit_prev_seq != 0) bad(e, "account entry with history links");
            return;
        }
        auto check = [&](Id128 id, std::int64_t prev) {
            const auto it = totals.find(id);
            const bool exists = !id.is_zero() && it != totals.end() && it->second.created;
            const std::int64_t expected = exists ? it->second.last_seq : 0;
            if (prev != expected) {
                bad(e, "links to entry " + std::to_string(prev) + " as the previous one of account " +
                           id_hex(id) + ", expected " + std::to_string(expected));
            }
            if (exists) it->second.last_seq = e.seq;
        };
        check(e.debit_account_id, e.debit_prev_seq);
        check(e.credit_account_id, e.credit_prev_seq);
    }
    void bad(const JournalEntry& e, const std::string& what) {
        if (violation.empty()) violation = "entry " + std::to_string(e.seq) + " " + what;
    }
    Totals* account(const JournalEntry& e, Id128 id) {
        const auto it = totals.find(id);
        if (it == totals.end() || !it->second.created) {
            bad(e, "names account " + id_hex(id) + " before it was created");
            return nullptr;
        }
        return &it->second;
    }
    void release(const OpenPending& p) {
        totals[p.debit].debits_pending -= p.amount;
        totals[p.credit].credits_pending -= p.amount;
    }
};

}  // namespace

bool AuditReport::passed() const {
    return !checks.empty() &&
           std::all_of(checks.begin(), checks.end(), [](const AuditCheck& c) { return c.passed; });
}

const AuditCheck* AuditReport::find(std::string_view name) const {
    for (const AuditCheck& c : checks) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

std::string AuditReport::text() const {
    std::string out;
    for (const AuditCheck& c : checks) {
        out += c.passed ? "ok    " : "FAIL  ";
        out += c.name + ": " + c.detail + "\n";
    }
    return out;
}

AuditReport audit_ledger(LedgerStore& store, const std::filesystem::path& checkpoint_file) {
    AuditReport report;
    auto add = [&](std::string name, bool passed, std::string detail) {
        report.checks.push_back({std::move(name), passed, std::move(detail)});
    };

    const auto checkpoint = read_checkpoint(checkpoint_file);

    Replay replay;
    std::vector<Account> accounts;
    JournalHead head;
    std::int64_t bad_hashes = 0;
    std::string sequence_error;
    std::optional<crypto::Sha256Digest> hash_at_checkpoint;
    const std::int64_t checkpoint_count = checkpoint && *checkpoint ? (*checkpoint)->count : -1;

    const auto scanned = store.scan(accounts, [&](const JournalEntry& e) {
        if (e.seq != head.count + 1 && sequence_error.empty()) {
            sequence_error = "expected entry " + std::to_string(head.count + 1) + ", found " +
                             std::to_string(e.seq);
            if (!report.first_bad_seq) report.first_bad_seq = e.seq;
        }
        if (chain_hash(head.hash, e) != e.hash) {
            ++bad_hashes;
            if (!report.first_bad_seq) report.first_bad_seq = e.seq;
        }
        // Continue from the stored hash, so one edited row is named and the rest still verify.
        head.count = e.seq;
        head.hash = e.hash;
        if (e.seq == checkpoint_count) hash_at_checkpoint = e.hash;
        replay.apply(e);
        return true;
    });
    report.entries = head.count;
    report.accounts = accounts.size();
    if (!scanned) {
        add("journal_readable", false,
            std::string(store_error_name(scanned.error().code)) + ": " + scanned.error().message);
        return report;
    }

    // 1. The chain.
    if (report.first_bad_seq) {
        add("journal_chain", false,
            "first bad entry is " + std::to_string(*report.first_bad_seq) + " (" +
                (sequence_error.empty() ? std::to_string(bad_hashes) +
                                              " entries whose hash does not match their content"
                                        : sequence_error) +
                "): the journal was edited");
    } else {
        add("journal_chain", true,
            std::to_string(head.count) + " entries, head " + hex_encode(head.hash));
    }

    // 2. The checkpoint outside the database.
    if (!checkpoint) {
        add("checkpoint", false, checkpoint.error().message);
    } else if (!*checkpoint) {
        add("checkpoint", head.count == 0,
            head.count == 0 ? "no checkpoint and an empty journal"
                            : "checkpoint file " + checkpoint_file.string() + " is missing");
    } else {
        const JournalHead& cp = **checkpoint;
        if (cp.count > head.count) {
            add("checkpoint", false,
                "the checkpoint records " + std::to_string(cp.count) + " entries but the journal has " +
                    std::to_string(head.count) + ": newest entries were removed (truncation)");
        } else if (cp.count > 0 && (!hash_at_checkpoint || *hash_at_checkpoint != cp.hash)) {
            add("checkpoint", false,
                "entry " + std::to_string(cp.count) + " does not have the checkpointed hash: the journal was rewritten");
        } else if (cp.count == 0 && cp.hash != crypto::Sha256Digest{}) {
            add("checkpoint", false, "checkpoint of an empty journal with a non-zero hash");
        } else {
            add("checkpoint", true,
                "journal matches the checkpoint at entry " + std::to_string(cp.count) +
                    (cp.count < head.count
                         ? " (" + std::to_string(head.count - cp.count) + " newer entries committed since)"
                         : ""));
        }
    }

    // 3. Each transfer id applied (or failed) once.
    std::sort(replay.transfer_ids.begin(), replay.transfer_ids.end());
    const auto dup = std::adjacent_find(replay.transfer_ids.begin(), replay.transfer_ids.end());
    if (dup != replay.transfer_ids.end()) {
        add("ids_applied_once", false, "transfer id " + id_hex(*dup) + " appears more than once");
    } else {
        add("ids_applied_once", true,
            std::to_string(replay.transfer_ids.size()) + " transfer ids, each once");
    }

    // 4. Entries consistent with each other (accounts exist, pendings resolved once).
    add("entries_consistent", replay.violation.empty(),
        replay.violation.empty() ? std::to_string(replay.open.size()) + " pending transfers open"
                                 : replay.violation);

    // 5. Stored account totals equal the replay of their transfers.
    std::string mismatch;
    std::size_t matched = 0;
    for (const Account& a : accounts) {
        const auto it = replay.totals.find(a.id);
        if (it == replay.totals.end() || !it->second.created) {
            if (mismatch.empty()) mismatch = "account " + id_hex(a.id) + " has no creation entry";
            continue;
        }
        const Totals& t = it->second;
        if (t.kind != a.kind || t.flags != a.flags || t.owner != a.owner || t.created_seq != a.created_seq) {
            if (mismatch.empty()) {
                mismatch = "account " + id_hex(a.id) + " kind, flags, owner or creation entry differ";
            }
            continue;
        }
        if (t.last_seq != a.last_entry_seq && mismatch.empty()) {
            mismatch = "account " + id_hex(a.id) + " names entry " + std::to_string(a.last_entry_seq) +
                       " as its newest, the journal says " + std::to_string(t.last_seq);
            continue;
        }
        if (t.debits_pending != a.debits_pending_msat || t.debits_posted != a.debits_posted_msat ||
            t.credits_pending != a.credits_pending_msat || t.credits_posted != a.credits_posted_msat) {
            if (mismatch.empty()) {
                mismatch = "account " + id_hex(a.id) + " stores debits " +
                           std::to_string(a.debits_posted_msat) + "+" + std::to_string(a.debits_pending_msat) +
                           " pending, credits " + std::to_string(a.credits_posted_msat) + "+" +
                           std::to_string(a.credits_pending_msat) + " pending; its transfers sum to " +
                           std::to_string(t.debits_posted) + "+" + std::to_string(t.debits_pending) +
                           ", " + std::to_string(t.credits_posted) + "+" + std::to_string(t.credits_pending);
            }
            continue;
        }
        ++matched;
    }
    std::size_t created = 0;
    for (const auto& [id, t] : replay.totals) created += t.created ? 1 : 0;
    if (mismatch.empty() && created != accounts.size()) {
        mismatch = std::to_string(created) + " accounts were created but " +
                   std::to_string(accounts.size()) + " are stored";
    }
    add("account_totals_match_journal", mismatch.empty(),
        mismatch.empty() ? std::to_string(matched) + " accounts match their transfers" : mismatch);

    // 6. Double entry: every msat debited somewhere was credited somewhere.
    Wide posted = 0, pending = 0;
    for (const Account& a : accounts) {
        posted += Wide{a.credits_posted_msat} - Wide{a.debits_posted_msat};
        pending += Wide{a.credits_pending_msat} - Wide{a.debits_pending_msat};
    }
    add("balances_sum_to_zero", posted == 0 && pending == 0,
        posted == 0 && pending == 0
            ? "posted and pending balances of all accounts sum to 0"
            : "balances sum to " + wide_text(posted) + " msat posted, " + wide_text(pending) +
                  " msat pending");

    // 7. No wallet below zero, counting reservations.
    std::string negative;
    std::size_t wallets = 0;
    for (const Account& a : accounts) {
        const bool limited = a.kind == AccountKind::user_wallet ||
                             (a.flags & account_flags::debits_must_not_exceed_credits) != 0;
        if (limited) {
            ++wallets;
            if (Wide{a.debits_pending_msat} + a.debits_posted_msat > a.credits_posted_msat &&
                negative.empty()) {
                negative = "account " + id_hex(a.id) + " (" + std::string(account_kind_name(a.kind)) +
                           ", owner '" + a.owner + "') is below zero: available " +
                           std::to_string(a.available_msat()) + " msat";
            }
        }
        if ((a.flags & account_flags::credits_must_not_exceed_debits) != 0 &&
            Wide{a.credits_pending_msat} + a.credits_posted_msat > a.debits_posted_msat &&
            negative.empty()) {
            negative = "account " + id_hex(a.id) + " has credits above its debits";
        }
    }
    add("no_wallet_below_zero", negative.empty(),
        negative.empty() ? std::to_string(wallets) + " wallets, none below zero counting pending debits"
                         : negative);
    return report;
}

}  // namespace satload::ledger
