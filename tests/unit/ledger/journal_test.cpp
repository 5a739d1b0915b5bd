// Pins down the journal's canonical encoding and hash chain: a fixed layout, every field
// covered by the hash, the chain depending on the previous hash, and the checkpoint file's
// strict format.
#include "ledger/journal.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "backends.h"
#include "ledger/checkpoint.h"

namespace satload::ledger {
namespace {

JournalEntry sample() {
    JournalEntry e;
    e.seq = 7;
    e.kind = EntryKind::transfer;
    e.id = Id128{1, 2};
    e.debit_account_id = Id128{3, 4};
    e.credit_account_id = Id128{5, 6};
    e.debit_prev_seq = 3;
    e.credit_prev_seq = 5;
    e.pending_id = Id128{7, 8};
    e.user_data = Id128{9, 10};
    e.amount_msat = 12345;
    e.timeout_s = 60;
    e.code = 2;
    e.flags = 4;
    e.result = 0;
    e.timestamp_ns = 1'700'000'000'000'000'000;
    e.memo = "reason";
    return e;
}

// The layout is fixed: 133 bytes then the memo; big-endian; version byte first.
TEST(Journal, EncodingLayout) {
    const JournalEntry e = sample();
    const Bytes b = encode_entry(e);
    ASSERT_EQ(b.size(), 133U + e.memo.size());
    EXPECT_EQ(b[0], 1);                             // version
    EXPECT_EQ(b[8], 7);                             // seq, big-endian, last byte
    EXPECT_EQ(b[9], static_cast<std::uint8_t>(EntryKind::transfer));
    EXPECT_EQ(b[131], 0);                           // memo length, high byte
    EXPECT_EQ(b[132], e.memo.size());
    EXPECT_EQ(std::string(b.end() - 6, b.end()), "reason");
}

// Changing any single field changes the hash, so no field can be edited unnoticed.
TEST(Journal, EveryFieldIsHashed) {
    const crypto::Sha256Digest prev{};
    const auto base = chain_hash(prev, sample());
    const std::vector<std::function<void(JournalEntry&)>> edits = {
        [](JournalEntry& e) { e.seq++; },
        [](JournalEntry& e) { e.kind = EntryKind::failure; },
        [](JournalEntry& e) { e.id.low++; },
        [](JournalEntry& e) { e.debit_account_id.high++; },
        [](JournalEntry& e) { e.credit_account_id.low++; },
        [](JournalEntry& e) { e.debit_prev_seq++; },
        [](JournalEntry& e) { e.credit_prev_seq++; },
        [](JournalEntry& e) { e.pending_id.low++; },
        [](JournalEntry& e) { e.user_data.low++; },
        [](JournalEntry& e) { e.amount_msat++; },
        [](JournalEntry& e) { e.timeout_s++; },
        [](JournalEntry& e) { e.code++; },
        [](JournalEntry& e) { e.flags++; },
        [](JournalEntry& e) { e.result++; },
        [](JournalEntry& e) { e.timestamp_ns++; },
        [](JournalEntry& e) { e.memo += "!"; },
        [](JournalEntry& e) { e.memo = "reasoN"; },
    };
    for (std::size_t i = 0; i < edits.size(); ++i) {
        JournalEntry e = sample();
        edits[i](e);
        EXPECT_NE(chain_hash(prev, e), base) << "edit " << i;
    }
    // The stored hash itself is not part of what is hashed.
    JournalEntry e = sample();
    e.hash[0] ^= 1;
    EXPECT_EQ(chain_hash(prev, e), base);
}

// Each hash commits to the previous one, and sealing extends the head.
TEST(Journal, ChainDependsOnPrevious) {
    crypto::Sha256Digest other{};
    other[31] = 1;
    EXPECT_NE(chain_hash(crypto::Sha256Digest{}, sample()), chain_hash(other, sample()));
    JournalHead head;
    std::vector<JournalEntry> entries(3, sample());
    seal_entries(head, entries);
    EXPECT_EQ(head.count, 3);
    EXPECT_EQ(entries[2].seq, 3);
    EXPECT_EQ(head.hash, entries[2].hash);
    EXPECT_EQ(entries[1].hash, chain_hash(entries[0].hash, entries[1]));
}

// Hash of the empty chain's first entry matches SHA-256(zeros || encoding) computed directly.
TEST(Journal, HashIsSha256OfPreviousAndEncoding) {
    const JournalEntry e = sample();
    Bytes input(32, 0);
    const Bytes enc = encode_entry(e);
    input.insert(input.end(), enc.begin(), enc.end());
    EXPECT_EQ(chain_hash(crypto::Sha256Digest{}, e), crypto::sha256(input));
}

// The checkpoint file round-trips and anything else is refused as corrupt.
TEST(Checkpoint, RoundTripAndStrictFormat) {
    testing::Place place(testing::Backend::sqlite);
    const auto file = place.checkpoint();
    EXPECT_FALSE(*read_checkpoint(file));  // missing: nullopt, not an error
    JournalHead head;
    head.count = 42;
    head.hash[0] = 0xab;
    ASSERT_TRUE(write_checkpoint(file, head));
    const auto back = read_checkpoint(file);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(**back, head);
    for (const std::string& bad : std::vector<std::string>{"", "satload-ledger-checkpoint 1\ncount x\nhash 00\n",
                                  "satload-ledger-checkpoint 1\ncount 1\nhash 00\n",
                                  "satload-ledger-checkpoint 2\ncount 1\nhash " + std::string(64, '0') + "\n",
                                  "satload-ledger-checkpoint 1\ncount -1\nhash " + std::string(64, '0') + "\n"}) {
        std::ofstream(file, std::ios::trunc) << bad;
        const auto r = read_checkpoint(file);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, StoreError::corrupt);
    }
}

}  // namespace
}  // namespace satload::ledger
