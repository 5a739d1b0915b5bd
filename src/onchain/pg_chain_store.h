// ChainStore on PostgreSQL (serve --db postgresql://…): the chain_* tables in the deployment's
// schema, component "chain" of its migrations. Every call is one durable transaction on a
// pooled connection and nothing is cached, so several server processes may share the tables.
#pragma once

#include <memory>

#include "onchain/chain_store.h"
#include "store/pg_db.h"

namespace satload::onchain {

inline constexpr std::string_view kPgChainComponent = "chain";

class PgChainStore final : public ChainStore {
public:
    // Brings the chain tables to this program's version (once, however many start together).
    static StoreResult<std::unique_ptr<PgChainStore>> open(std::shared_ptr<store::PgDb> db);

    StoreResult<std::optional<BlockRecord>> tip() override;
    StoreResult<std::optional<BlockRecord>> block_at(std::int64_t height) override;
    StoreResult<void> connect_block(const BlockEffects& effects) override;
    StoreResult<DisconnectEffects> disconnect_block(std::int64_t height) override;
    StoreResult<std::optional<AddressRecord>> address_by_script(ByteSpan script) override;
    StoreResult<std::optional<AddressRecord>> unused_address(AccountId account) override;
    StoreResult<std::uint32_t> next_index(Branch branch) override;
    StoreResult<void> insert_address(const AddressRecord& address) override;
    StoreResult<std::vector<DepositRecord>> deposits_of(AccountId account) override;
    StoreResult<std::vector<DepositRecord>> deposits_with_status(DepositStatus status) override;
    StoreResult<void> mark_credited(const chain::OutPoint& outpoint) override;
    StoreResult<void> set_reversal_plan(const chain::OutPoint& outpoint,
                                        std::optional<ReversalPlan> plan,
                                        std::int64_t attempt) override;
    StoreResult<void> mark_reversed(const chain::OutPoint& outpoint, std::int64_t reversed_msat,
                                    std::int64_t receivable_msat) override;
    StoreResult<std::vector<CoinRecord>> unspent_coins() override;
    StoreResult<std::vector<CoinRecord>> coins_of_withdrawal(const std::string& id) override;
    StoreResult<void> insert_withdrawal(const WithdrawalRecord& withdrawal,
                                        const std::vector<chain::OutPoint>& coins) override;
    StoreResult<bool> delete_withdrawal(const std::string& id) override;
    StoreResult<bool> set_withdrawal_status(const std::string& id, std::string_view from,
                                            std::string_view to) override;
    StoreResult<std::optional<WithdrawalRecord>> withdrawal(const std::string& id) override;
    StoreResult<void> release_coins(const std::string& id) override;
    StoreResult<std::optional<WithdrawalRecord>> withdrawal_by_key(AccountId account,
                                                                   const std::string& key) override;
    StoreResult<std::vector<WithdrawalRecord>> withdrawals_of(AccountId account) override;
    StoreResult<std::vector<WithdrawalRecord>> withdrawals_with_status(
        std::string_view status) override;
    StoreResult<std::vector<WithdrawalRecord>> stale_reserving(std::int64_t grace_s,
                                                               std::int64_t now_s) override;
    StoreResult<std::vector<WithdrawalRecord>> voided_holding_coins(std::size_t limit) override;
    StoreResult<std::int64_t> withdrawn_since(std::int64_t since_s) override;

private:
    explicit PgChainStore(std::shared_ptr<store::PgDb> db) : m_db(std::move(db)) {}
    std::shared_ptr<store::PgDb> m_db;
};

}  // namespace satload::onchain
