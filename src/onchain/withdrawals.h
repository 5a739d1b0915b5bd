// Withdrawals from the hot wallet: checks that refuse before anything is reserved, a fee rate
// from the node (clamped) or the configured fallback, coin selection, a signed RBF transaction
// with change to an internal address, a pending ledger reservation of amount + fee, broadcast
// confirmed through the mempool, rebroadcast while unconfirmed, posting after N
// confirmations, and a void only when a conflicting spend of its coins is confirmed. Above
// the hot-wallet limits a withdrawal is signed and held until an operator approves it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "onchain/chain_store.h"
#include "onchain/rpc.h"
#include "onchain/wallet.h"

namespace satload::onchain {

// Below this an output is dust (Bitcoin Core's limit for P2PKH at the default relay fee,
// which covers every output type we pay): never paid, never kept as change.
inline constexpr std::int64_t kDustSat = 546;
// estimatesmartfee is clamped into this range (sat/vB): a node's wild estimate must not
// drain the wallet, and below 1 sat/vB nodes do not relay.
inline constexpr double kMinFeeRateSatPerVb = 1.0;
inline constexpr double kMaxFeeRateSatPerVb = 500.0;
inline constexpr int kFeeTargetBlocks = 6;
// Hot-wallet limits by default: above them a withdrawal waits for `satload admin approve`.
inline constexpr std::int64_t kDefaultMaxWithdrawalSat = 10'000'000;     // 0.1 BTC each
inline constexpr std::int64_t kDefaultDailyWithdrawalSat = 50'000'000;   // 0.5 BTC per 24 h
inline constexpr std::int64_t kWithdrawalDaySeconds = 24 * 3600;
// How long a broadcast is given to show up in the node's mempool before the answer goes out
// (the watcher keeps checking and rebroadcasting after that).
inline constexpr std::chrono::milliseconds kMempoolWait{5000};
inline constexpr std::chrono::milliseconds kMempoolPoll{100};
// Coins one withdrawal spends at most (keeps the transaction far below standardness limits).
inline constexpr std::size_t kMaxWithdrawalInputs = 200;
// A withdrawal left `reserving` (a crash, or a ledger error, between holding its coins and the
// reservation's answer) is settled by the watcher's check only once it is this old, so that no
// check settles one that a request on another instance is still setting up.
inline constexpr std::int64_t kReservingGraceS = 300;
// Rejected withdrawals whose reservation's void failed that one check retries at most.
inline constexpr std::size_t kVoidRetriesPerCheck = 100;
// An Idempotency-Key: 1 to 64 characters of A-Z a-z 0-9 - _ (the CLI sends 22).
inline constexpr std::size_t kRequestKeyCharsMax = 64;
[[nodiscard]] bool is_request_key(std::string_view key);

// The account the operator withdraws platform revenue from (no user account has id 0): the
// same engine, limits and approvals, with the platform revenue account as the source.
inline constexpr AccountId kPlatformAccount = 0;

struct WithdrawalOptions {
    double fallback_fee_rate_sat_per_vb = 0;  // 0: none (refuse when the node has no estimate)
    std::int64_t max_withdrawal_sat = kDefaultMaxWithdrawalSat;
    std::int64_t daily_withdrawal_sat = kDefaultDailyWithdrawalSat;
    std::chrono::milliseconds mempool_wait = kMempoolWait;
    std::int64_t reserving_grace_s = kReservingGraceS;
};

enum class WithdrawalError {
    bad_amount,          // zero, negative, or not whole sats
    bad_address,         // not a segwit address
    wrong_network,       // an address of another network (mainnet on regtest)
    below_dust,          // below kDustSat
    frozen,              // the wallet is frozen
    insufficient_funds,  // the wallet cannot cover amount + fee
    no_fee_rate,         // the node has no estimate and no fallback is configured
    hot_wallet_short,    // the hot wallet's confirmed coins cannot fund it now
    not_found,           // approve: no such withdrawal
    not_awaiting,        // approve: the withdrawal does not wait for approval
    key_reused,          // the request key names a withdrawal with another address or amount
    node,                // the node is unreachable
    store,
    ledger,
};

[[nodiscard]] std::string_view withdrawal_error_name(WithdrawalError e);

struct WithdrawalFailure {
    WithdrawalError code;
    std::string message;
};

template <class T>
using WithdrawalResult = Result<T, WithdrawalFailure>;

struct WithdrawalView {
    std::string id;
    std::string status;  // awaiting_approval, broadcast, confirmed, voided (reserving: being set up)
    std::string txid;    // display hex
    std::string address;
    std::int64_t amount_msat = 0;
    std::int64_t fee_msat = 0;
    std::int64_t confirmations = 0;
    bool replayed = false;  // an earlier request with the same key made it: nothing new was done
};

// Coin selection (largest first) for paying `amount_sat` to a script of `payee_script_bytes`.
struct CoinChoice {
    std::vector<CoinRecord> coins;
    std::int64_t fee_sat = 0;
    std::int64_t change_sat = 0;  // 0: no change output (what would be dust goes to the fee)
};
// The largest virtual size of a transaction spending `inputs` P2WPKH coins to outputs with
// these script sizes (signatures counted at their 72-byte maximum).
[[nodiscard]] std::size_t estimate_vsize(std::size_t inputs, const std::vector<std::size_t>& output_script_bytes);
[[nodiscard]] std::int64_t fee_for(std::size_t vsize, double fee_rate_sat_per_vb);
[[nodiscard]] std::optional<CoinChoice> select_coins(std::vector<CoinRecord> coins, std::int64_t amount_sat,
                                                     std::size_t payee_script_bytes, double fee_rate_sat_per_vb);
[[nodiscard]] double clamp_fee_rate(double sat_per_vb);

class WithdrawalEngine {
public:
    WithdrawalEngine(OnchainWallet& wallet, ChainStore& store, NodeRpc& node, ledger::Ledger& ledger,
                     WithdrawalOptions options);

    void set_frozen_check(std::function<bool(AccountId)> check) { m_is_frozen = std::move(check); }

    // `request_key` (empty, or is_request_key): a request with the key of an earlier one of the
    // same account answers that withdrawal (replayed) instead of making a second one.
    [[nodiscard]] WithdrawalResult<WithdrawalView> request(AccountId account,
                                                           const std::string& address,
                                                           std::int64_t amount_msat,
                                                           const std::string& request_key = {});
    [[nodiscard]] WithdrawalResult<WithdrawalView> approve(const std::string& id);
    // The operator's refusal of a withdrawal awaiting approval: its reservation is voided (the
    // money back in the source account), its coins freed, and it ends `voided`, never sent.
    [[nodiscard]] WithdrawalResult<WithdrawalView> reject(const std::string& id);
    [[nodiscard]] WithdrawalResult<std::vector<WithdrawalView>> list(AccountId account);
    // After each watcher round: post confirmed ones, void conflicted ones, rebroadcast dropped
    // ones, settle old `reserving` ones, and void again the reservation of rejected ones whose
    // void failed.
    void check(std::int64_t tip_height);

private:
    WithdrawalResult<WithdrawalView> broadcast(const WithdrawalRecord& w);
    // The withdrawal `id` if it awaits approval; else not_found or not_awaiting.
    WithdrawalResult<WithdrawalRecord> awaiting(const std::string& id);
    // The answer to a request whose key names `earlier`.
    WithdrawalResult<WithdrawalView> replay(const WithdrawalRecord& earlier,
                                            const std::string& address, std::int64_t amount_sat);
    // The stored row's view after another instance (or the watcher) moved `w` first; if the
    // watcher dropped it meanwhile, its reservation is voided and the answer is an error.
    WithdrawalResult<WithdrawalView> view_after_lost_move(const WithdrawalRecord& w);
    // A reservation whose answer was lost: awaiting approval if the ledger applied it, dropped
    // (its coins released) if not.
    void settle_reserving(const WithdrawalRecord& w);
    // A rejected (voided) withdrawal's reservation voided (the same void id: applied once) and
    // its coins freed; the ledger's answer (ok: voided now, exists: before). Errors: ledger, store.
    WithdrawalResult<ledger::TransferResult> release_rejected(const WithdrawalRecord& w,
                                                              ledger::Id128 reservation_id);
    // A rejected withdrawal that still holds its coins (the void failed, or the coins' release):
    // release_rejected again.
    void finish_rejection(const WithdrawalRecord& w);
    WithdrawalView view(const WithdrawalRecord& w);
    std::optional<std::int64_t> confirmed_height(const WithdrawalRecord& w, bool& conflicted_deep);

    OnchainWallet& m_wallet;
    ChainStore& m_store;
    NodeRpc& m_node;
    ledger::Ledger& m_ledger;
    WithdrawalOptions m_options;
    std::function<bool(AccountId)> m_is_frozen;
    std::mutex m_mutex;  // one withdrawal set up (or checked) at a time
};

}  // namespace satload::onchain
