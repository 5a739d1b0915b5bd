// Canonical encoding and hash chaining of journal entries.
#include "ledger/journal.h"

#include "core/check.h"

namespace satload::ledger {
namespace {

constexpr std::uint8_t kEncodingVersion = 1;

void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void put_u16(Bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_u64(Bytes& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_i64(Bytes& out, std::int64_t v) { put_u64(out, static_cast<std::uint64_t>(v)); }
void put_id(Bytes& out, Id128 id) {
    put_u64(out, id.high);
    put_u64(out, id.low);
}

}  // namespace

std::string_view entry_kind_name(EntryKind kind) {
    switch (kind) {
        case EntryKind::account: return "account";
        case EntryKind::transfer: return "transfer";
        case EntryKind::failure: return "failure";
        case EntryKind::expiry: return "expiry";
    }
    return "invalid";
}

Bytes encode_entry(const JournalEntry& e) {
    // Memo and owner are bounded when created; a longer one here is a programming error.
    SATLOAD_ASSERT(e.memo.size() <= 0xffff);
    Bytes out;
    out.reserve(128 + e.memo.size());
    put_u8(out, kEncodingVersion);
    put_i64(out, e.seq);
    put_u8(out, static_cast<std::uint8_t>(e.kind));
    put_id(out, e.id);
    put_id(out, e.debit_account_id);
    put_id(out, e.credit_account_id);
    put_i64(out, e.debit_prev_seq);
    put_i64(out, e.credit_prev_seq);
    put_id(out, e.pending_id);
    put_id(out, e.user_data);
    put_i64(out, e.amount_msat);
    put_u32(out, e.timeout_s);
    put_u16(out, e.code);
    put_u16(out, e.flags);
    put_u8(out, e.result);
    put_i64(out, e.timestamp_ns);
    put_u16(out, static_cast<std::uint16_t>(e.memo.size()));
    out.insert(out.end(), e.memo.begin(), e.memo.end());
    return out;
}

crypto::Sha256Digest chain_hash(const crypto::Sha256Digest& previous, const JournalEntry& entry) {
    crypto::Sha256 h;
    h.update(previous);
    h.update(encode_entry(entry));
    return h.finish();
}

void seal_entries(JournalHead& head, std::span<JournalEntry> entries) {
    for (JournalEntry& e : entries) {
        e.seq = head.count + 1;
        e.hash = chain_hash(head.hash, e);
        head.count = e.seq;
        head.hash = e.hash;
    }
}

std::int64_t previous_in_history(const JournalEntry& e, Id128 account) {
    if (e.kind == EntryKind::account) return e.id == account ? 0 : -1;
    if (e.debit_account_id == account) return e.debit_prev_seq;
    if (e.credit_account_id == account) return e.credit_prev_seq;
    return -1;
}

Transfer entry_transfer(const JournalEntry& e) {
    Transfer t;
    t.id = e.kind == EntryKind::expiry ? e.pending_id : e.id;
    t.debit_account_id = e.debit_account_id;
    t.credit_account_id = e.credit_account_id;
    t.amount_msat = e.amount_msat;
    t.pending_id = e.kind == EntryKind::expiry ? Id128{} : e.pending_id;
    t.user_data = e.user_data;
    t.timeout_s = e.timeout_s;
    t.code = e.code;
    t.flags = e.flags;
    t.memo = e.memo;
    t.timestamp_ns = e.timestamp_ns;
    return t;
}

JournalEntry account_entry(const Account& a) {
    JournalEntry e;
    e.kind = EntryKind::account;
    e.id = a.id;
    e.code = static_cast<std::uint16_t>(a.kind);
    e.flags = a.flags;
    e.memo = a.owner;
    e.timestamp_ns = a.timestamp_ns;
    return e;
}

JournalEntry transfer_entry(const Transfer& t, EntryKind kind, std::uint8_t result) {
    JournalEntry e;
    e.kind = kind;
    e.id = t.id;
    e.debit_account_id = t.debit_account_id;
    e.credit_account_id = t.credit_account_id;
    e.pending_id = t.pending_id;
    e.user_data = t.user_data;
    e.amount_msat = t.amount_msat;
    e.timeout_s = t.timeout_s;
    e.code = t.code;
    e.flags = t.flags;
    e.result = result;
    e.timestamp_ns = t.timestamp_ns;
    e.memo = t.memo;
    return e;
}

}  // namespace satload::ledger
