// PaymentStore: what paid downloads remember beside the ledger — each payment attempt of a
// payer for a file (its number, state and split, and for a granted one its expiry) and each
// account's referral code, and the holds and redirects of a file's earnings (trust and safety:
// see "held earnings" in DESIGN.md). The ledger holds the money; this holds which grant it bought.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accounts/account_store.h"
#include "store/blob_store.h"

namespace satload::payments {

using accounts::AccountId;
using store::StoreError;
using store::StoreFailure;
using store::StoreResult;

// An attempt ends `granted` (its ledger group applied) or `failed` (the ledger refused it, e.g.
// the wallet could not cover it: the next attempt gets a new number and a new payment id).
// Where servers share the records it is written `pending` before its group is submitted (see
// shared_by_servers), so that a retry follows the same group (the same derived payment id).
// No record need be durable: a crash that loses one makes the retry build the same number
// again, the ledger answers that it holds that payment id, and the paywall records the
// attempt the ledger applied (record_recovered_attempt). The ledger is the truth.
enum class AttemptState { pending, granted, failed };

// Where a held uploader leg went (a pending ledger transfer until it is settled).
enum class HoldOutcome { none, released, redirected };

struct PaymentAttempt {
    AccountId payer = 0;
    std::string file_id;
    std::int64_t attempt_no = 0;  // 1, 2, ... per (payer, file)
    AttemptState state = AttemptState::pending;
    AccountId uploader = 0;
    std::optional<AccountId> referrer;  // only when the referrer's leg exists
    std::int64_t price_msat = 0;
    std::int64_t uploader_msat = 0;
    std::int64_t referrer_msat = 0;
    std::int64_t platform_msat = 0;
    std::int64_t created_s = 0;
    std::int64_t expires_s = 0;  // granted: the grant's end
    // Trust and safety. `payee`: who the uploader leg credits (nullopt: the uploader; set when
    // a redirect was in force at payment time). `held`: the uploader leg was a pending ledger
    // transfer, settled later (`hold_outcome`, `settled_to` the account finally credited).
    std::optional<AccountId> payee;
    bool held = false;
    HoldOutcome hold_outcome = HoldOutcome::none;
    std::optional<AccountId> settled_to;

    [[nodiscard]] AccountId uploader_leg_account() const { return payee.value_or(uploader); }
};

// An upheld rights-holder claim: the file's uploader legs credit the claimant from now on, and
// with `include_held` the legs held when it was recorded too.
struct EarningsRedirect {
    std::string file_id;
    AccountId claimant = 0;
    bool include_held = false;
    std::int64_t created_s = 0;
};

struct FileEarnings {
    std::string file_id;
    std::uint64_t downloads = 0;  // paid grants
    std::int64_t gross_msat = 0;  // what payers paid
    std::int64_t net_msat = 0;    // what reached the uploader
    std::int64_t held_msat = 0;   // uploader legs held (pending) under an open copyright report
};

struct ReferralEarnings {
    std::uint64_t payments = 0;
    std::int64_t earned_msat = 0;
};

// A position in a file's unsettled holds, in their order (oldest first).
struct HoldCursor {
    std::int64_t created_s = 0;
    AccountId payer = 0;
    std::int64_t attempt_no = 0;
};

class PaymentStore {
public:
    virtual ~PaymentStore() = default;

    // Whether several server processes share these records (PostgreSQL behind several
    // servers). Then an attempt is recorded pending before its ledger group is submitted, so a
    // second server starting the same attempt is told `exists` and follows it. The records of
    // one server (SQLite: the ledger's lock keeps a second server out of the data directory)
    // take an attempt once, with its outcome, after the ledger answered: one write per payment.
    [[nodiscard]] virtual bool shared_by_servers() const = 0;

    virtual StoreResult<std::optional<PaymentAttempt>> latest_attempt(AccountId payer,
                                                                       const std::string& file_id) = 0;
    // Records the attempt in its state (pending, or granted or failed with its outcome).
    // StoreError::exists when (payer, file, attempt_no) is taken: another request (or another
    // server) started the same attempt; re-read and follow it. May be durable only after a
    // later commit (see AttemptState).
    virtual StoreResult<void> insert_attempt(const PaymentAttempt& attempt) = 0;
    // Records attempts taken earlier in memory (BufferedPaymentStore), together where the
    // store can: one whose number is taken already is skipped (the paywall numbers attempts
    // after latest_attempt, which sees every record, so it only meets records rebuilt from the
    // ledger). Durable as insert_attempt.
    virtual StoreResult<void> insert_attempts(std::span<const PaymentAttempt> attempts) {
        for (const auto& a : attempts) {
            if (auto r = insert_attempt(a); !r && r.error().code != StoreError::exists) return r;
        }
        return {};
    }
    // Ends a pending attempt. StoreError::not_found when it is not pending. May be durable
    // only after a later commit: an outcome a crash loses leaves the attempt pending, and the
    // paywall settles a pending attempt again by its payment id (never charged twice).
    virtual StoreResult<void> finish_attempt(AccountId payer, const std::string& file_id,
                                             std::int64_t attempt_no, AttemptState state,
                                             std::int64_t expires_s) = 0;
    // Records what the ledger applied for an attempt's payment id when it differs from (or
    // outlived) the record: `attempt` as a whole (split, referrer, payee, held flag, state and
    // expiry) replaces the pending attempt of its number, or is inserted when none is
    // recorded. StoreError::not_found when that attempt is recorded and not pending. Durable
    // as finish_attempt (the ledger still holds what it is rebuilt from).
    virtual StoreResult<void> record_recovered_attempt(const PaymentAttempt& attempt) = 0;

    virtual StoreResult<std::vector<FileEarnings>> earnings(AccountId uploader) = 0;
    virtual StoreResult<ReferralEarnings> referral_earnings(AccountId referrer) = 0;

    // The account's code, or nullopt; set_referral_code fails with exists when the code (or
    // the account) already has one.
    virtual StoreResult<std::optional<std::string>> referral_code(AccountId account) = 0;
    virtual StoreResult<void> set_referral_code(AccountId account, const std::string& code) = 0;
    virtual StoreResult<std::optional<AccountId>> referral_owner(const std::string& code) = 0;

    // Held earnings: held attempts of the file whose uploader leg is still pending, granted or
    // still recorded pending (a crash between recording and finishing; the ledger tells whether
    // its group applied), at most `limit`, oldest first; every file that has such attempts; and
    // the settlement of one (not_found unless it is held and unsettled).
    // `after`: only those past this one in that order (a settlement's next page, beyond the
    // records it could not settle).
    virtual StoreResult<std::vector<PaymentAttempt>> unsettled_holds(
        const std::string& file_id, std::size_t limit, std::optional<HoldCursor> after = {}) = 0;
    // ... in file id order, those after `after_file` (the next page) when it is not empty.
    virtual StoreResult<std::vector<std::string>> files_with_unsettled_holds(
        std::size_t limit, const std::string& after_file = {}) = 0;
    virtual StoreResult<void> settle_hold(AccountId payer, const std::string& file_id,
                                          std::int64_t attempt_no, HoldOutcome outcome,
                                          AccountId settled_to) = 0;
    // The file's redirect (set again: replaced).
    virtual StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) = 0;
    virtual StoreResult<void> set_redirect(const EarningsRedirect& redirect) = 0;
};

}  // namespace satload::payments
