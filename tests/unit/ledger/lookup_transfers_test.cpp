// Pins down Ledger::lookup_transfers on both backends: an applied transfer comes back as it was
// applied (with the ledger's timestamp), a pending one with its status as it changes, a refused
// one with its recorded failure, ids the ledger never saw are left out, and the answer holds
// across a restart (it is read from the store, not from memory).
#include <gtest/gtest.h>

#include <algorithm>

#include "backends.h"
#include "ledger/ledger.h"

namespace satload::ledger {
namespace {

using testing::Backend;
using testing::Place;
using R = TransferResult;

Id128 account(std::uint64_t n) { return Id128{0x5a, n}; }
Id128 transfer(std::uint64_t n) { return Id128{0x5b, n}; }

Transfer move(std::uint64_t n, std::uint64_t debit, std::uint64_t credit, std::int64_t amount,
              std::uint16_t flags = 0) {
    Transfer t;
    t.id = transfer(n);
    t.debit_account_id = account(debit);
    t.credit_account_id = account(credit);
    t.amount_msat = amount;
    t.code = transfer_code::adjustment;
    t.flags = flags;
    t.user_data = Id128{7, n};
    return t;
}

class LookupTransfersTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        SATLOAD_REQUIRE_BACKEND(GetParam());
        place = std::make_unique<Place>(GetParam());
        reopen();
        ASSERT_TRUE(ledger);
        Account assets;
        assets.id = account(1);
        assets.kind = AccountKind::onchain_assets;
        std::vector<Account> accounts{assets};
        for (std::uint64_t n : {2, 3}) {
            Account w;
            w.id = account(n);
            w.kind = AccountKind::user_wallet;
            w.flags = account_flags::debits_must_not_exceed_credits;
            w.owner = "user" + std::to_string(n);
            accounts.push_back(w);
        }
        ASSERT_TRUE(ledger->create_accounts(accounts));
    }
    void reopen() {
        ledger.reset();
        auto l = place->open_ledger();
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
    }
    R one(const Transfer& t) {
        auto out = ledger->create_transfers({t});
        EXPECT_TRUE(out);
        return out ? out->at(0).result : R::ok;
    }
    std::optional<KnownTransfer> find(Id128 id) {
        auto found = ledger->lookup_transfers({id});
        EXPECT_TRUE(found) << found.error().message;
        if (!found || found->empty()) return std::nullopt;
        EXPECT_EQ(found->size(), 1U);
        return found->front();
    }

    std::unique_ptr<Place> place;
    std::unique_ptr<Ledger> ledger;
};

// Applied, pending (then posted), refused and unknown ids, before and after a restart.
TEST_P(LookupTransfersTest, ReturnsWhatTheLedgerRecorded) {
    const Transfer funded = move(1, 1, 2, 1'000);
    ASSERT_EQ(one(funded), R::ok);
    const Transfer held = move(2, 2, 3, 300, transfer_flags::pending);
    ASSERT_EQ(one(held), R::ok);
    ASSERT_EQ(one(move(3, 3, 2, 5)), R::exceeds_credits);

    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE(round == 0 ? "before the restart" : "after the restart");
        auto all = ledger->lookup_transfers({transfer(1), transfer(2), transfer(3), transfer(99)});
        ASSERT_TRUE(all) << all.error().message;
        EXPECT_EQ(all->size(), 3U);  // the unknown id is left out

        const auto applied = find(transfer(1));
        ASSERT_TRUE(applied);
        EXPECT_FALSE(applied->failure);
        EXPECT_EQ(applied->transfer.debit_account_id, funded.debit_account_id);
        EXPECT_EQ(applied->transfer.credit_account_id, funded.credit_account_id);
        EXPECT_EQ(applied->transfer.amount_msat, 1'000);
        EXPECT_EQ(applied->transfer.user_data, funded.user_data);
        EXPECT_GT(applied->transfer.timestamp_ns, 0);

        const auto pending = find(transfer(2));
        ASSERT_TRUE(pending);
        EXPECT_FALSE(pending->failure);
        EXPECT_NE(pending->transfer.flags & transfer_flags::pending, 0);
        EXPECT_EQ(pending->status, std::optional<PendingStatus>(round == 0 ? PendingStatus::pending
                                                                             : PendingStatus::posted));

        const auto refused = find(transfer(3));
        ASSERT_TRUE(refused);
        EXPECT_EQ(refused->failure, std::optional<R>(R::exceeds_credits));

        EXPECT_FALSE(find(transfer(99)));
        if (round == 0) {
            Transfer post = move(4, 2, 3, 300, transfer_flags::post_pending);
            post.pending_id = transfer(2);
            ASSERT_EQ(one(post), R::ok);
            reopen();
        }
    }
    auto none = ledger->lookup_transfers({});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, LookupTransfersTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::param_name);

}  // namespace
}  // namespace satload::ledger
