// ChainStore on SQLite: the chain_* tables in meta.sqlite (own version table), one connection,
// one transaction per call.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "onchain/chain_store.h"

struct sqlite3;

namespace satload::onchain {

inline constexpr int kChainStoreBusyTimeoutMs = 5000;

class SqliteChainStore final : public ChainStore {
public:
    static StoreResult<std::unique_ptr<SqliteChainStore>> open(const std::filesystem::path& db_file);
    ~SqliteChainStore() override;
    SqliteChainStore(const SqliteChainStore&) = delete;
    SqliteChainStore& operator=(const SqliteChainStore&) = delete;

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
    StoreResult<void> set_reversal_plan(const chain::OutPoint& outpoint, std::optional<ReversalPlan> plan,
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
    StoreResult<std::vector<WithdrawalRecord>> withdrawals_with_status(std::string_view status) override;
    StoreResult<std::vector<WithdrawalRecord>> stale_reserving(std::int64_t grace_s,
                                                               std::int64_t now_s) override;
    StoreResult<std::vector<WithdrawalRecord>> voided_holding_coins(std::size_t limit) override;
    StoreResult<std::int64_t> withdrawn_since(std::int64_t since_s) override;

private:
    explicit SqliteChainStore(sqlite3* db);
    std::mutex m_mutex;
    sqlite3* m_db;
};

}  // namespace satload::onchain
