// ChainStore: the on-chain wallet's records (tables chain_*): the blocks the watcher followed
// (hash and parent by height), the wallet's addresses, the deposits seen and what became of
// them, the wallet's coins and their spends, and withdrawals. Every block is connected or
// disconnected in one transaction, so a crash leaves either all of a block's effects or none.
// Implementations: SqliteChainStore (meta.sqlite), PgChainStore (serve --db postgresql://…).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/hashes.h"
#include "chain/transaction.h"
#include "core/encoding.h"
#include "store/blob_store.h"

namespace satload::onchain {

using store::StoreResult;
using AccountId = std::int64_t;

// BIP84's two branches: receive (deposit) addresses and internal (change) ones.
enum class Branch : std::uint32_t { receive = 0, change = 1 };

struct AddressRecord {
    Branch branch = Branch::receive;
    std::uint32_t index = 0;
    std::optional<AccountId> account;  // the user a deposit address belongs to
    Bytes script;
    bool used = false;  // an output paying it was seen in a block
};

struct BlockRecord {
    std::int64_t height = 0;
    chain::Hash256 hash{};
    chain::Hash256 parent{};
};

// pending: in a block, fewer than N confirmations; credited: in the user's wallet;
// orphaned: a reorg took its block before it was credited (not in the chain now);
// reversing: a reorg took back a credited deposit and the reversal is being booked;
// reversed: the reversal is booked (the wallet and the receivable say how).
enum class DepositStatus { pending, credited, orphaned, reversing, reversed };
[[nodiscard]] std::string_view deposit_status_name(DepositStatus s);
// The status a name stands for (an unknown name reads as pending, as the tables allow none).
[[nodiscard]] DepositStatus parse_deposit_status(std::string_view name);

// How a reversal splits the deposit: from the wallet, and (what it could not cover) owed.
struct ReversalPlan {
    std::int64_t wallet_msat = 0;
    std::int64_t receivable_msat = 0;
};

struct DepositRecord {
    chain::OutPoint outpoint;
    AccountId account = 0;
    std::int64_t amount_sat = 0;
    std::optional<std::int64_t> height;  // the block it is in now
    DepositStatus status = DepositStatus::pending;
    std::int64_t credits = 0;          // times credited (a reorged deposit mined again is credited again)
    std::int64_t reversed_msat = 0;    // taken back from the wallet by reversals
    std::int64_t receivable_msat = 0;  // what the wallet could not cover, owed
    // A reversal being booked: its split is fixed before the ledger sees it, so a retry after a
    // crash submits the same transfers; `plan_attempt` moves on when the ledger refused one.
    std::int64_t plan_attempt = 0;
    std::optional<ReversalPlan> plan;
};

struct CoinRecord {
    chain::OutPoint outpoint;
    std::int64_t value_sat = 0;
    Branch branch = Branch::receive;
    std::uint32_t index = 0;
    std::int64_t height = 0;  // -1: a held coin whose block a reorg took (out of the chain)
    std::optional<chain::Hash256> spent_by;  // a confirmed spend
    std::optional<std::int64_t> spent_height;
    std::optional<std::string> reserved_by;  // the withdrawal that spends it
};

// reserving: written, its ledger reservation not yet confirmed; awaiting_approval: above a
// hot-wallet limit, signed and held until `satload admin approve`; broadcast: sent to the
// node (rebroadcast while unconfirmed); confirmed: N confirmations, posted with its fee;
// voided: a conflicting spend of its coins confirmed, the reservation released.
struct WithdrawalRecord {
    std::string id;  // the ledger reservation's id, 32 hex digits
    AccountId account = 0;
    std::string address;
    std::int64_t amount_sat = 0;
    std::int64_t fee_sat = 0;
    std::string status;
    chain::Hash256 txid{};
    Bytes raw_tx;
    std::int64_t created_s = 0;
    // The client's Idempotency-Key, unique per account; empty: none was given.
    std::string request_key;
};

// What one block does to the wallet, found by the watcher.
struct BlockEffects {
    BlockRecord block;
    struct Output {
        chain::OutPoint outpoint;
        std::int64_t value_sat = 0;
        AddressRecord address;
        bool deposit = false;  // a receive address's output at or above the dust threshold
    };
    std::vector<Output> outputs;
    struct Spend {
        chain::OutPoint coin;
        chain::Hash256 txid{};
    };
    std::vector<Spend> spends;
};

// What disconnecting a block did to deposits (the caller books reversals).
struct DisconnectEffects {
    std::vector<DepositRecord> orphaned;  // were pending
    std::vector<DepositRecord> reversing; // were credited
};

class ChainStore {
public:
    virtual ~ChainStore() = default;

    // Blocks.
    virtual StoreResult<std::optional<BlockRecord>> tip() = 0;
    virtual StoreResult<std::optional<BlockRecord>> block_at(std::int64_t height) = 0;
    virtual StoreResult<void> connect_block(const BlockEffects& effects) = 0;
    // Disconnects the tip block (which must be at `height`).
    virtual StoreResult<DisconnectEffects> disconnect_block(std::int64_t height) = 0;

    // Addresses.
    virtual StoreResult<std::optional<AddressRecord>> address_by_script(ByteSpan script) = 0;
    // The user's newest receive address that has not been paid, if any.
    virtual StoreResult<std::optional<AddressRecord>> unused_address(AccountId account) = 0;
    virtual StoreResult<std::uint32_t> next_index(Branch branch) = 0;
    // Inserts the address at its index; `exists` if the index or script is taken.
    virtual StoreResult<void> insert_address(const AddressRecord& address) = 0;

    // Deposits.
    virtual StoreResult<std::vector<DepositRecord>> deposits_of(AccountId account) = 0;
    virtual StoreResult<std::vector<DepositRecord>> deposits_with_status(DepositStatus status) = 0;
    virtual StoreResult<void> mark_credited(const chain::OutPoint& outpoint) = 0;
    virtual StoreResult<void> set_reversal_plan(const chain::OutPoint& outpoint,
                                                std::optional<ReversalPlan> plan, std::int64_t attempt) = 0;
    // Books the reversal's sums and clears the plan: reversed (or pending when mined again).
    virtual StoreResult<void> mark_reversed(const chain::OutPoint& outpoint, std::int64_t reversed_msat,
                                            std::int64_t receivable_msat) = 0;

    // Coins.
    virtual StoreResult<std::vector<CoinRecord>> unspent_coins() = 0;
    virtual StoreResult<std::vector<CoinRecord>> coins_of_withdrawal(const std::string& id) = 0;

    // Withdrawals. Inserting holds its coins (all or nothing: `exists` if one is taken, or if
    // the account has a withdrawal with the same request key).
    virtual StoreResult<void> insert_withdrawal(const WithdrawalRecord& withdrawal,
                                                const std::vector<chain::OutPoint>& coins) = 0;
    // Drops a withdrawal still `reserving` whose reservation the ledger refused (or never
    // applied), releasing its coins; false (nothing dropped) when it is not reserving any more.
    virtual StoreResult<bool> delete_withdrawal(const std::string& id) = 0;
    // Moves a withdrawal from status `from` to `to`; false (nothing written) when it is not in
    // `from` any more: another instance (or the watcher) moved it first.
    virtual StoreResult<bool> set_withdrawal_status(const std::string& id, std::string_view from,
                                                    std::string_view to) = 0;
    virtual StoreResult<std::optional<WithdrawalRecord>> withdrawal(const std::string& id) = 0;
    // Frees the coins a withdrawal holds (one rejected before it was sent).
    virtual StoreResult<void> release_coins(const std::string& id) = 0;
    // The account's withdrawal made under this request key, if any.
    virtual StoreResult<std::optional<WithdrawalRecord>> withdrawal_by_key(
        AccountId account, const std::string& key) = 0;
    virtual StoreResult<std::vector<WithdrawalRecord>> withdrawals_of(AccountId account) = 0;
    virtual StoreResult<std::vector<WithdrawalRecord>> withdrawals_with_status(std::string_view status) = 0;
    // Withdrawals still `reserving` begun at least `grace_s` ago: left by a crash (or a request
    // that is taking that long). One server's store judges by `created_s` against `now_s`; a
    // store that servers share judges by its own clock, at the row's insert and now, since the
    // servers' clocks may differ by more than the grace.
    virtual StoreResult<std::vector<WithdrawalRecord>> stale_reserving(std::int64_t grace_s,
                                                                       std::int64_t now_s) = 0;
    // Voided withdrawals that still hold an unspent coin, oldest first, at most `limit`: a
    // rejection whose ledger void failed (it releases the coins only after the void).
    virtual StoreResult<std::vector<WithdrawalRecord>> voided_holding_coins(std::size_t limit) = 0;
    // Sats sent (or being sent) by withdrawals created since then: the daily limit's sum.
    virtual StoreResult<std::int64_t> withdrawn_since(std::int64_t since_s) = 0;
};

}  // namespace satload::onchain
