// Paid downloads: the 402 challenge (an invoice the server can trust when it comes back), the
// payment (one atomic ledger group per grant, exactly once per payer and file while a grant
// lives), the L402 credential that proves it (a V2 macaroon with file, payer and expiry
// caveats, and the preimage whose SHA-256 is the payment hash inside it), referral codes and
// earnings, and held earnings: while the hold policy says so (an open copyright report) the
// uploader's leg is a pending ledger transfer, later released or redirected to a rights holder.
// See "paywall" and "held earnings" in DESIGN.md.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/macaroon.h"
#include "ledger/ledger.h"
#include "ledger/split.h"
#include "payments/hand_off_lock.h"
#include "payments/payment_store.h"
#include "payments/wallet_service.h"

namespace satload::payments {

// The server secret behind invoices, preimages and macaroons (three keys derived from it).
inline constexpr std::size_t kPaywallSecretBytes = 32;
// A challenge's invoice is accepted this long after it was issued.
inline constexpr std::int64_t kInvoiceLifetimeS = 3600;
// Referral codes: 9 random bytes, 12 base64url characters.
inline constexpr std::size_t kReferralCodeBytes = 9;
inline constexpr std::size_t kReferralCodeChars = 12;
// Requests for one (payer, file) are serialized through one of these locks.
inline constexpr std::size_t kPayLockStripes = 64;
// Held payments settled per store read (a file with more is settled in several rounds).
inline constexpr std::size_t kSettleBatchMax = 500;
// Files swept per settle_stale_holds call.
inline constexpr std::size_t kStaleHoldFilesMax = 1000;

// What the paywall needs to know of a file right now.
struct FileFacts {
    std::int64_t price_msat = 0;  // 0: free
    AccountId owner = 0;          // 0: anonymous upload (never priced)
};
// nullopt: no such file, or it cannot be downloaded (expired, revoked, ...).
using FileLookup = std::function<std::optional<FileFacts>(const std::string& file_id)>;
// Whether a file's earnings are held right now (the server wires it to trust and safety: an
// open copyright report). Called under the paywall's hold lock; must be cheap and not block.
using HoldPolicy = std::function<bool(const std::string& file_id)>;

struct PaywallOptions {
    ledger::SplitShares split;
    std::int64_t grant_lifetime_s = 24 * 3600;
    std::string location;  // the macaroons' location hint (the server's public URL)
    std::function<std::int64_t()> clock_s;  // Unix seconds
    // The file lookup and the payment store answer from this machine without waiting on a
    // network (embedded SQLite), so begin_inline may pay on an event loop.
    bool inline_payments = false;
};

enum class PayError {
    invoice_invalid,      // not an invoice of this server (malformed or a bad MAC)
    invoice_expired,      // older than kInvoiceLifetimeS: fetch a new challenge
    file_gone,            // deleted, expired, revoked or limited since the challenge
    price_changed,        // the owner changed the price since the challenge
    price_above_maximum,  // above the payer's max_msat
    not_priced,           // the file is free
    own_file,             // the payer owns the file: it downloads free with the session
    insufficient_funds,   // the wallet cannot cover the price: nothing moved
    unavailable,          // the ledger or the store failed: nothing was granted (retry)
};
[[nodiscard]] std::string_view pay_error_name(PayError e);

struct PayFailure {
    PayError code;
    std::string message;
};

template <class T>
using PayResult = Result<T, PayFailure>;

struct Challenge {
    std::int64_t price_msat = 0;
    std::string invoice;           // opaque to clients
    std::string www_authenticate;  // `L402 macaroon="...", invoice="..."`
};

// What settle_holds did: held uploader legs posted to their payee, or voided and paid to the
// claimant of a redirect with include_held. `still_held`: the policy still holds the file, so
// nothing was settled.
struct HoldSettlement {
    std::size_t released = 0;
    std::size_t redirected = 0;
    std::int64_t released_msat = 0;
    std::int64_t redirected_msat = 0;
    bool still_held = false;
};

struct PaidGrant {
    std::string macaroon;  // base64 V2
    std::string preimage_hex;
    ledger::Id128 payment_id;
    PaymentAttempt attempt;  // the split, the expiry
    bool charged_now = false;  // false: a live grant was returned without charging
};

class Paywall {
public:
    // `secret` is kPaywallSecretBytes; it is copied into derived keys and may be wiped after.
    Paywall(WalletService& wallets, PaymentStore& store, FileLookup lookup, PaywallOptions options,
            ByteSpan secret);
    ~Paywall();
    Paywall(const Paywall&) = delete;
    Paywall& operator=(const Paywall&) = delete;

    // The 402 answer for a priced file; the referral code (from `?r=`) rides in the invoice.
    [[nodiscard]] Challenge challenge(const std::string& file_id, std::int64_t price_msat,
                                      std::string_view referral_code) const;
    // Pays the invoice from the payer's wallet (at most max_msat), or returns the payer's live
    // grant for the file without charging. Blocks until the ledger's commit.
    PayResult<PaidGrant> pay(AccountId payer, std::string_view invoice, std::int64_t max_msat);

    // pay() without blocking, for an event loop; with PaywallOptions::inline_payments only.
    // begin_inline runs pay()'s checks and reads and answers one of three ways:
    //  - `answer`: the payment ended here (refused, or the payer's live grant);
    //  - `pending`: submit pending->legs to the ledger (submit_transfers_then) and hand its
    //    outcome to finish_inline; the pending payment holds pay()'s locks until then;
    //  - neither: a step that may block came up (a wallet to create, a held or unfinished
    //    attempt, a payment of the same payer and file in progress): call pay() on a thread
    //    that may block. Nothing was recorded or moved.
    // The common payment (wallets made, nothing held) thus needs no thread but the ledger's.
    class PendingPayment;
    struct InlineStart {
        std::optional<PayResult<PaidGrant>> answer;
        std::unique_ptr<PendingPayment> pending;
    };
    [[nodiscard]] bool inline_payments() const;
    InlineStart begin_inline(AccountId payer, std::string_view invoice, std::int64_t max_msat);
    // The payment's answer from the ledger's outcome of its legs; nullopt when it needs pay()
    // on a thread that may block (the ledger held its payment id already: pay() reads back
    // what was applied and grants that, charging nothing more). Its locks are released first.
    std::optional<PayResult<PaidGrant>> finish_inline(
        std::unique_ptr<PendingPayment> pending,
        ledger::LedgerResult<std::vector<ledger::TransferOutcome>> outcome);
    // An `Authorization` value for `file_id`: the grant, or why not (crypto::MacaroonError;
    // `expired` for a genuine grant that ran out).
    [[nodiscard]] Result<crypto::L402Grant, crypto::MacaroonError> check_credential(
        std::string_view authorization, std::string_view file_id) const;
    // Whether the payer holds a live grant for the file (a session instead of the credential).
    StoreResult<bool> has_live_grant(AccountId payer, const std::string& file_id);

    // The account's referral code, created on first use.
    StoreResult<std::string> referral_code(AccountId account);
    StoreResult<std::vector<FileEarnings>> earnings(AccountId uploader) { return m_store.earnings(uploader); }
    StoreResult<ReferralEarnings> referral_earnings(AccountId referrer) {
        return m_store.referral_earnings(referrer);
    }

    // Set before the paywall serves payments (not synchronized with pay()).
    void set_hold_policy(HoldPolicy policy) { m_hold_policy = std::move(policy); }
    // An upheld rights-holder claim: the file's uploader legs credit `claimant` from now on;
    // with include_held, settling the legs held so far pays them to the claimant as well.
    StoreResult<void> redirect_earnings(const std::string& file_id, AccountId claimant, bool include_held);
    StoreResult<std::optional<EarningsRedirect>> redirect_of(const std::string& file_id) {
        return m_store.redirect_of(file_id);
    }
    // Settles the file's held legs once the policy no longer holds it: each is posted to its
    // payee (released) or, under a redirect with include_held, voided and paid to the claimant
    // in one linked group. Idempotent (derived transfer ids): safe to repeat after a crash.
    // Waits for payments in flight, so none that the policy held before can be missed.
    PayResult<HoldSettlement> settle_holds(const std::string& file_id);
    // settle_holds for every file with unsettled holds (after a restart: a report resolved
    // just before a crash leaves its file's holds unsettled).
    PayResult<HoldSettlement> settle_stale_holds();
    // The id of one settlement step ("release", "void", "redirect") of a held payment.
    [[nodiscard]] static ledger::Id128 settlement_id(ledger::Id128 payment_id, std::string_view step);

    // The payment id of a payer's attempt for a file (exposed for tests and the audit trail).
    [[nodiscard]] static ledger::Id128 payment_id(AccountId payer, const std::string& file_id,
                                                  std::int64_t attempt_no);

private:
    struct Invoice {
        std::string file_id;
        std::int64_t price_msat = 0;
        std::int64_t issued_s = 0;
        std::string referral_code;  // empty: none
    };
    [[nodiscard]] std::string encode_invoice(const Invoice& invoice) const;
    [[nodiscard]] PayResult<Invoice> decode_invoice(std::string_view text) const;
    [[nodiscard]] crypto::Preimage preimage_of(ledger::Id128 payment_id) const;
    [[nodiscard]] PaidGrant grant_of(const PaymentAttempt& attempt, bool charged_now) const;
    HandOffMutex& lock_for(AccountId payer, const std::string& file_id);
    // pay() but its hold settlement: begin, the ledger, finish.
    PayResult<PaidGrant> pay_locked(AccountId payer, std::string_view invoice, std::int64_t max_msat);
    // A payment's checks and reads up to its ledger group, under the hold lock (shared) and
    // its stripe lock, which `p` keeps. Ends the payment (the answer), leaves p.legs to submit
    // (neither set), or, when !may_block, finds a step that may block (`blocked`).
    struct Begun {
        std::optional<PayResult<PaidGrant>> answer;
        bool blocked = false;
    };
    Begun begin(PendingPayment& p, AccountId payer, std::string_view invoice, std::int64_t max_msat,
                bool may_block);
    // The rest, from the ledger's outcome; nullopt only when !may_block (see finish_inline).
    std::optional<PayResult<PaidGrant>> finish(
        PendingPayment& p, ledger::LedgerResult<std::vector<ledger::TransferOutcome>> outcome,
        bool may_block);
    // The attempt the ledger applied for `built`'s payment id, read back from its legs (the
    // split, referrer, payee and held flag; payer, file, number and uploader from `built`).
    // nullopt when the ledger applied no leg of it.
    PayResult<std::optional<PaymentAttempt>> applied_attempt(const PaymentAttempt& built);
    // The attempt's ledger group, the uploader leg pending when the attempt is held.
    [[nodiscard]] PayResult<std::vector<ledger::Transfer>> legs_of(const PaymentAttempt& attempt) const;
    PayResult<void> settle_one(const PaymentAttempt& attempt, const std::optional<EarningsRedirect>& redirect,
                               HoldSettlement& out);
    // A held attempt recorded pending and never finished (a crash after its ledger group, or
    // before it): recorded as granted from what the ledger applied, and returned when its
    // uploader leg is held; nullopt when the ledger holds no group of it (nothing reserved).
    PayResult<std::optional<PaymentAttempt>> recover_pending_hold(const PaymentAttempt& pending);

    WalletService& m_wallets;
    PaymentStore& m_store;
    FileLookup m_lookup;
    PaywallOptions m_options;
    std::array<std::uint8_t, 32> m_macaroon_key{};
    std::array<std::uint8_t, 32> m_invoice_key{};
    std::array<std::uint8_t, 32> m_preimage_key{};
    std::array<HandOffMutex, kPayLockStripes> m_locks;
    HoldPolicy m_hold_policy;
    // Payments hold it shared from the policy's answer until their attempt is recorded;
    // settle_holds exclusively, so it sees every payment the policy held.
    HandOffSharedMutex m_hold_mutex;
};

// A payment between its checks and its ledger group's outcome, with the locks it holds.
class Paywall::PendingPayment {
public:
    ~PendingPayment();
    PendingPayment(const PendingPayment&) = delete;
    PendingPayment& operator=(const PendingPayment&) = delete;

    std::vector<ledger::Transfer> legs;  // the group to submit

private:
    friend class Paywall;
    PendingPayment() = default;
    // Releases the locks (at the latest on destruction).
    void release();

    PaymentAttempt attempt;
    // Recorded pending before its group (see begin); else recorded once, with its outcome.
    bool recorded_pending = false;
    std::int64_t now = 0;
    HandOffSharedMutex* hold = nullptr;  // held shared
    HandOffMutex* stripe = nullptr;      // held
};

}  // namespace satload::payments
