// Canonical encoding and hash chaining of journal entries.
#include "ledger/journal.h"

#include <array>

#include "core/check.h"

namespace satload::ledger {
namespace {

constexpr std::uint8_t kEncodingVersion = 1;

// Writes big-endian fields into a fixed buffer (the fixed part of an entry is 133 bytes).
class Writer {
public:
    explicit Writer(std::uint8_t* out) : m_out(out) {}
    void u8(std::uint8_t v) { m_out[m_size++] = v; }
    void u16(std::uint16_t v) { be(v, 2); }
    void u32(std::uint32_t v) { be(v, 4); }
    void i64(std::int64_t v) { be(static_cast<std::uint64_t>(v), 8); }
    void id(Id128 v) {
        be(v.high, 8);
        be(v.low, 8);
    }
    [[nodiscard]] std::size_t size() const { return m_size; }

private:
    void be(std::uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) m_out[m_size++] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    std::uint8_t* m_out;
    std::size_t m_size = 0;
};

constexpr std::size_t kFixedBytes = 1 + 8 + 1 + 16 * 3 + 8 * 2 + 16 * 2 + 8 + 4 + 2 + 2 + 1 + 8 + 2;
using Fixed = std::array<std::uint8_t, kFixedBytes>;

// Everything but the memo's bytes, which follow the fixed part (its length is the last field).
Fixed encode_fixed(const JournalEntry& e) {
    // Memo and owner are bounded when created; a longer one here is a programming error.
    SATLOAD_ASSERT(e.memo.size() <= 0xffff);
    Fixed out{};
    Writer w(out.data());
    w.u8(kEncodingVersion);
    w.i64(e.seq);
    w.u8(static_cast<std::uint8_t>(e.kind));
    w.id(e.id);
    w.id(e.debit_account_id);
    w.id(e.credit_account_id);
    w.i64(e.debit_prev_seq);
    w.i64(e.credit_prev_seq);
    w.id(e.pending_id);
    w.id(e.user_data);
    w.i64(e.amount_msat);
    w.u32(e.timeout_s);
    w.u16(e.code);
    w.u16(e.flags);
    w.u8(e.result);
    w.i64(e.timestamp_ns);
    w.u16(static_cast<std::uint16_t>(e.memo.size()));
    SATLOAD_ASSERT(w.size() == kFixedBytes);
    return out;
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
    const Fixed fixed = encode_fixed(e);
    Bytes out(kFixedBytes + e.memo.size());
    std::copy(fixed.begin(), fixed.end(), out.begin());
    std::copy(e.memo.begin(), e.memo.end(), out.begin() + static_cast<std::ptrdiff_t>(kFixedBytes));
    return out;
}

crypto::Sha256Digest chain_hash(const crypto::Sha256Digest& previous, const JournalEntry& entry) {
    crypto::Sha256 h;
    return chain_hash(h, previous, entry);
}

crypto::Sha256Digest chain_hash(crypto::Sha256& h, const crypto::Sha256Digest& previous,
                                const JournalEntry& entry) {
    const Fixed fixed = encode_fixed(entry);
    h.update(previous);
    h.update(fixed);
    if (!entry.memo.empty()) h.update(as_bytes(entry.memo));
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
