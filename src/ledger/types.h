// The ledger's vocabulary: 128-bit ids, accounts, transfers, and the named result of every
// outcome. Pure data; the rules that use it are in state_machine.h.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/money.h"

namespace satload::ledger {

// A client-chosen identifier. Zero is reserved (never a valid id), so a zero field means
// "absent" (e.g. no pending_id).
struct Id128 {
    std::uint64_t high = 0;
    std::uint64_t low = 0;

    constexpr auto operator<=>(const Id128&) const = default;
    [[nodiscard]] constexpr bool is_zero() const { return high == 0 && low == 0; }
};

inline constexpr std::size_t kIdBytes = 16;
using IdBytes = std::array<std::uint8_t, kIdBytes>;

// Big-endian bytes, as stored in the database and hashed into the journal.
[[nodiscard]] IdBytes id_bytes(Id128 id);
[[nodiscard]] Id128 id_from_bytes(ByteSpan bytes);  // asserts 16 bytes
// 32 lowercase hex digits.
[[nodiscard]] std::string id_hex(Id128 id);
[[nodiscard]] std::optional<Id128> parse_id_hex(std::string_view text);

// A new id whose high half starts with the time in milliseconds (like a ULID: 48 bits of time,
// then 80 random bits). Ids that grow with time land at the right edge of the stores' id
// index, which keeps commits cheap; random ids work too, only slower. Randomness is injected.
[[nodiscard]] Id128 time_ordered_id(std::int64_t now_ns, std::uint64_t random_high,
                                    std::uint64_t random_low);

struct Id128Hash {
    std::size_t operator()(const Id128& id) const noexcept {
        // Ids are random or hashes in practice; mixing both halves is enough.
        return std::hash<std::uint64_t>{}(id.high * 0x9e3779b97f4a7c15ULL ^ id.low);
    }
};

// Limits on everything a client controls.
inline constexpr std::size_t kOwnerBytesMax = 128;
inline constexpr std::size_t kMemoBytesMax = 200;
// Events in one submission; a linked group cannot be longer than this.
inline constexpr std::size_t kSubmissionEventsMax = 8190;

enum class AccountKind : std::uint16_t {
    user_wallet = 1,           // a user's balance: may never go below zero
    platform_revenue = 2,      // the platform's share of download payments
    onchain_assets = 3,        // the hot wallet: what the node holds for us
    pending_withdrawals = 4,   // reserved for withdrawals waiting on the chain
    operator_adjustments = 5,  // the other side of `admin credit`
    receivable = 6,            // what users owe after a reorg took back a deposit
    network_fees = 7,          // on-chain fees paid by the hot wallet
};
inline constexpr std::uint16_t kAccountKindMax = 7;
[[nodiscard]] std::string_view account_kind_name(AccountKind kind);
[[nodiscard]] std::optional<AccountKind> parse_account_kind(std::string_view name);

namespace account_flags {
// Debits (posted and pending) may never exceed posted credits: a balance that cannot go
// below zero, even counting reservations. Set on every user wallet.
inline constexpr std::uint16_t debits_must_not_exceed_credits = 1U << 0;
// The mirror image, for accounts that may only be drawn down to zero from the other side.
inline constexpr std::uint16_t credits_must_not_exceed_debits = 1U << 1;
inline constexpr std::uint16_t all = debits_must_not_exceed_credits | credits_must_not_exceed_debits;
}  // namespace account_flags

struct Account {
    Id128 id;
    AccountKind kind = AccountKind::user_wallet;
    std::uint16_t flags = 0;
    std::string owner;  // user id for wallets; empty for platform accounts
    std::int64_t debits_pending_msat = 0;
    std::int64_t debits_posted_msat = 0;
    std::int64_t credits_pending_msat = 0;
    std::int64_t credits_posted_msat = 0;
    std::int64_t timestamp_ns = 0;  // assigned by the ledger at creation
    // Newest journal entry that names this account: the head of its history, a list linked
    // through the journal (JournalEntry::debit_prev_seq / credit_prev_seq), so reading a
    // wallet's history needs no index on accounts.
    std::int64_t last_entry_seq = 0;
    // Seq of the account's creation entry: unique, and the stores' compact key for the row.
    std::int64_t created_seq = 0;

    // Posted balance seen from the credit side (what a wallet holds).
    [[nodiscard]] std::int64_t balance_msat() const {
        return credits_posted_msat - debits_posted_msat;
    }
    // What a wallet can still spend: posted balance minus reservations.
    [[nodiscard]] std::int64_t available_msat() const {
        return credits_posted_msat - debits_posted_msat - debits_pending_msat;
    }
    friend bool operator==(const Account&, const Account&) = default;
};

namespace transfer_flags {
// This transfer and the next one succeed or fail together; a group ends at the first event
// without the flag.
inline constexpr std::uint16_t linked = 1U << 0;
// Two-phase: reserve now (pending totals), post or void later.
inline constexpr std::uint16_t pending = 1U << 1;
inline constexpr std::uint16_t post_pending = 1U << 2;
inline constexpr std::uint16_t void_pending = 1U << 3;
// This transfer fails with exceeds_credits when it would take its debit account's debits
// (pending and posted) above its posted credits, as the account flag of that name does for
// every transfer of an account that has it: for one movement that must not overdraw an account
// that may otherwise go below zero (the operator's withdrawal of platform revenue). Checked by
// the writer against the committed state, so two such transfers racing on two servers cannot
// both pass. Not for a post or void (they reserve nothing new).
inline constexpr std::uint16_t debits_must_not_exceed_credits = 1U << 4;
inline constexpr std::uint16_t all =
    linked | pending | post_pending | void_pending | debits_must_not_exceed_credits;
}  // namespace transfer_flags

// What a transfer is for. The ledger only requires a non-zero code; these name satload's.
namespace transfer_code {
inline constexpr std::uint16_t deposit = 1;
inline constexpr std::uint16_t download_payment = 2;
inline constexpr std::uint16_t referral_reward = 3;
inline constexpr std::uint16_t platform_fee = 4;
inline constexpr std::uint16_t withdrawal = 5;
inline constexpr std::uint16_t withdrawal_fee = 6;
inline constexpr std::uint16_t adjustment = 7;
inline constexpr std::uint16_t deposit_reversal = 8;
}  // namespace transfer_code

struct Transfer {
    Id128 id;
    Id128 debit_account_id;
    Id128 credit_account_id;
    std::int64_t amount_msat = 0;
    Id128 pending_id;             // for post_pending / void_pending: the reservation
    Id128 user_data;              // opaque reference for the caller (e.g. a file id)
    std::uint32_t timeout_s = 0;  // pending only; 0 = never expires (withdrawals)
    std::uint16_t code = 0;
    std::uint16_t flags = 0;
    std::string memo;             // e.g. the reason of an operator adjustment
    std::int64_t timestamp_ns = 0;  // assigned by the ledger; ignored on input

    friend bool operator==(const Transfer&, const Transfer&) = default;
};

enum class CreateAccountResult : std::uint8_t {
    ok = 0,
    id_must_not_be_zero,
    kind_invalid,
    flags_invalid,                 // a reserved flag bit is set
    flags_are_mutually_exclusive,
    owner_too_long,
    exists_with_different_kind,
    exists_with_different_flags,
    exists_with_different_owner,
    exists,
};
inline constexpr std::uint8_t kCreateAccountResultMax =
    static_cast<std::uint8_t>(CreateAccountResult::exists);
[[nodiscard]] std::string_view result_name(CreateAccountResult r);

// Listed in the order the checks run: validation of the transfer alone first (these never
// depend on the ledger's state and are never recorded), then the ones that do.
enum class TransferResult : std::uint8_t {
    ok = 0,
    linked_event_failed,            // another transfer of the group failed
    linked_event_chain_open,        // the submission ended inside a linked group
    id_must_not_be_zero,
    flags_invalid,
    flags_are_mutually_exclusive,
    memo_too_long,
    pending_id_must_be_zero,
    pending_id_must_not_be_zero,
    pending_id_must_be_different,
    timeout_reserved_for_pending_transfer,
    debit_account_id_must_not_be_zero,
    credit_account_id_must_not_be_zero,
    accounts_must_be_different,
    amount_must_not_be_negative,
    amount_exceeds_supply,
    amount_must_not_be_zero,
    code_must_not_be_zero,
    // The id was seen before.
    exists_with_different_flags,
    exists_with_different_debit_account_id,
    exists_with_different_credit_account_id,
    exists_with_different_amount,
    exists_with_different_pending_id,
    exists_with_different_timeout,
    exists_with_different_code,
    exists_with_different_user_data,
    exists_with_different_memo,
    exists,
    // Depend on the ledger's state: recorded, so a retry of the id gets the same answer.
    debit_account_not_found,
    credit_account_not_found,
    pending_transfer_not_found,
    pending_transfer_not_pending,
    pending_transfer_has_different_debit_account_id,
    pending_transfer_has_different_credit_account_id,
    pending_transfer_already_posted,
    pending_transfer_already_voided,
    pending_transfer_expired,
    pending_transfer_has_different_amount,  // a void whose amount is neither 0 nor the pending's
    exceeds_pending_transfer_amount,        // a post above the pending amount
    overflows_debits,
    overflows_credits,
    exceeds_credits,
    exceeds_debits,
};
inline constexpr std::uint8_t kTransferResultMax =
    static_cast<std::uint8_t>(TransferResult::exceeds_debits);
[[nodiscard]] std::string_view result_name(TransferResult r);

// Whether a transfer is applied: now (ok) or before, under the same id (exists).
[[nodiscard]] constexpr bool applied(TransferResult r) {
    return r == TransferResult::ok || r == TransferResult::exists;
}

// Results that depend on the ledger's state rather than on the transfer alone. A group that
// fails with one of these is recorded, so retrying its ids returns the first result.
[[nodiscard]] constexpr bool is_state_dependent(TransferResult r) {
    return r >= TransferResult::debit_account_not_found;
}

// The outcome of one event: its result and the ledger timestamp it was given (unique and
// increasing across the ledger, so it also orders events that came from different threads).
template <class R>
struct Outcome {
    R result;
    std::int64_t timestamp_ns = 0;
};
using TransferOutcome = Outcome<TransferResult>;
using AccountOutcome = Outcome<CreateAccountResult>;

// Where a pending transfer stands.
enum class PendingStatus : std::uint8_t { pending = 1, posted, voided, expired };

}  // namespace satload::ledger
