// The journal: the append-only record of every change to the ledger, each entry hash-chained
// to the one before (SHA-256 over the previous hash and the entry's canonical encoding).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "ledger/types.h"

namespace satload::ledger {

enum class EntryKind : std::uint8_t {
    account = 1,   // an account was created
    transfer = 2,  // a transfer was applied (including posts and voids of pending ones)
    failure = 3,   // a transfer failed for a state-dependent reason; its id is now spent
    expiry = 4,    // a pending transfer timed out and its reservation was released
};
[[nodiscard]] std::string_view entry_kind_name(EntryKind kind);

// Flat, so that it maps one to one to a stored row and to the canonical encoding.
struct JournalEntry {
    std::int64_t seq = 0;  // 1-based position in the journal
    EntryKind kind = EntryKind::transfer;
    Id128 id;  // account id (account), transfer id (transfer, failure), pending id (expiry)
    Id128 debit_account_id;
    Id128 credit_account_id;
    // The previous entry naming the same debit (credit) account, 0 for none: each account's
    // history is a list linked backwards through the journal.
    std::int64_t debit_prev_seq = 0;
    std::int64_t credit_prev_seq = 0;
    Id128 pending_id;  // post/void: the reservation; expiry: the expired transfer itself
    Id128 user_data;
    std::int64_t amount_msat = 0;  // as applied: a void records the released amount
    std::uint32_t timeout_s = 0;
    std::uint16_t code = 0;   // transfer code; for an account entry, its AccountKind
    std::uint16_t flags = 0;  // transfer flags; for an account entry, its account flags
    std::uint8_t result = 0;  // failure entries: the TransferResult that was recorded
    std::int64_t timestamp_ns = 0;
    std::string memo;  // transfer memo; for an account entry, its owner
    crypto::Sha256Digest hash{};

    friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

// The chain's head: how many entries there are and the hash of the last one (all zero for
// an empty journal). This is what the checkpoint file holds.
struct JournalHead {
    std::int64_t count = 0;
    crypto::Sha256Digest hash{};

    friend bool operator==(const JournalHead&, const JournalHead&) = default;
};

// Fixed-layout, big-endian bytes of every field except the hash; memo is length-prefixed.
// Version byte first, so the layout can change without ambiguity.
[[nodiscard]] Bytes encode_entry(const JournalEntry& entry);

// SHA-256(previous hash || encode_entry(entry)).
[[nodiscard]] crypto::Sha256Digest chain_hash(const crypto::Sha256Digest& previous,
                                              const JournalEntry& entry);
// The same with a hasher reused across entries (it is reset by each finish).
[[nodiscard]] crypto::Sha256Digest chain_hash(crypto::Sha256& hasher,
                                              const crypto::Sha256Digest& previous,
                                              const JournalEntry& entry);

// Gives each entry its seq and hash, extending `head` (history links must already be set;
// StateMachine::seal_batch sets them).
void seal_entries(JournalHead& head, std::span<JournalEntry> entries);

// The seq of the entry before `entry` in `account`'s history (0: none, -1: `entry` does not
// name the account).
[[nodiscard]] std::int64_t previous_in_history(const JournalEntry& entry, Id128 account);

// Entry and account conversions used by stores and the audit.
[[nodiscard]] Transfer entry_transfer(const JournalEntry& entry);
[[nodiscard]] JournalEntry account_entry(const Account& account);
[[nodiscard]] JournalEntry transfer_entry(const Transfer& transfer, EntryKind kind,
                                          std::uint8_t result);

}  // namespace satload::ledger
