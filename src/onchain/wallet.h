// The platform's on-chain wallet: deposit addresses (BIP84 receive branch, one per user until
// paid), the chain watcher that follows the node and books deposits into the ledger exactly
// once (and reverses them when a reorg takes them back), and the state the API shows.
//
// Deposit addresses and the gap limit: a wallet restored from the seed elsewhere scans
// receive addresses until it meets 20 unused ones in a row (BIP44's gap limit). Here a user
// holds at most one issued-but-unpaid address: asking again returns the same address until an
// output paying it is seen in a block, and only then is the next index handed out. So no user
// can widen the gap by asking repeatedly; the gap is at most the number of users whose
// current address is still unpaid. satload itself never relies on the gap limit: it knows every
// address it issued (chain_addresses) and matches block outputs against all of them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chain/bip32.h"
#include "chain/network.h"
#include "core/result.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "onchain/chain_store.h"
#include "onchain/rpc.h"
#include "onchain/seed.h"

namespace satload::onchain {

// Outputs below this are dust (Bitcoin Core's dust limit for a P2PKH output at the default
// relay fee; a P2WPKH one is lower): never credited, never spent.
inline constexpr std::int64_t kMinDepositSat = 546;
inline constexpr std::uint32_t kDefaultConfirmations = 3;
inline constexpr std::uint32_t kMaxConfirmations = 1000;
// A reorg at most this deep is handled (reversals booked); a deeper one halts the watcher.
inline constexpr std::int64_t kDefaultSafetyWindowBlocks = 100;
// Blocks connected per sync round at most, so a long catch-up still checks for reorgs and
// credits as it goes.
inline constexpr std::int64_t kMaxBlocksPerSync = 200;
// Deposit records whose credits the audit looks up in the ledger in one request.
inline constexpr std::size_t kAuditDepositsPerLookup = 1000;
inline constexpr std::chrono::milliseconds kDefaultPollInterval{1000};
// Back-off while the node is away: doubling from the poll interval up to this.
inline constexpr std::chrono::milliseconds kMaxBackoff{8000};

struct OnchainOptions {
    chain::Network network = chain::Network::regtest;
    std::uint32_t confirmations = kDefaultConfirmations;
    std::int64_t safety_window_blocks = kDefaultSafetyWindowBlocks;
    std::int64_t min_deposit_sat = kMinDepositSat;
    std::chrono::milliseconds poll_interval = kDefaultPollInterval;
    std::chrono::milliseconds max_backoff = kMaxBackoff;
};

enum class OnchainError {
    store,        // the chain_* tables failed
    node,         // the node is unreachable or answered nonsense
    bad_block,    // a block that does not parse, or whose hash or merkle root is wrong
    ledger,       // the ledger refused or is unavailable
    halted,       // a reorg deeper than the safety window: the watcher waits for an operator
};

[[nodiscard]] std::string_view onchain_error_name(OnchainError e);

struct OnchainFailure {
    OnchainError code;
    std::string message;
};

template <class T>
using OnchainResult = Result<T, OnchainFailure>;

struct DepositView {
    std::string txid;  // display hex
    std::uint32_t vout = 0;
    std::int64_t amount_msat = 0;
    std::int64_t confirmations = 0;  // 0 when not in the chain now
    std::string status;              // pending, credited, orphaned, reversing, reversed
};

struct SyncReport {
    std::int64_t node_height = 0;
    std::int64_t connected = 0;
    std::int64_t disconnected = 0;
    std::int64_t credited = 0;
    std::int64_t reversed = 0;
};

// Called when a reversal leaves a user owing: freezes the wallet (the safety layer does it;
// this layer does not depend on it).
using FreezeHook = std::function<void(AccountId account, const std::string& why)>;
// Loud operator alerts (reversals, halts): the default writes to stderr.
using AlertHook = std::function<void(const std::string& line)>;

class OnchainWallet {
public:
    OnchainWallet(ChainStore& store, NodeRpc& node, ledger::Ledger& ledger, const chain::ExtendedKey& account_key,
                  OnchainOptions options);
    ~OnchainWallet();
    OnchainWallet(const OnchainWallet&) = delete;
    OnchainWallet& operator=(const OnchainWallet&) = delete;

    void set_freeze_hook(FreezeHook hook) { m_freeze = std::move(hook); }
    void set_alert_hook(AlertHook hook) { m_alert = std::move(hook); }

    [[nodiscard]] const chain::NetworkParams& network() const { return m_network; }
    [[nodiscard]] const OnchainOptions& options() const { return m_options; }

    // The user's current deposit address (the same until it is paid).
    [[nodiscard]] OnchainResult<std::string> deposit_address(AccountId account);
    [[nodiscard]] OnchainResult<std::vector<DepositView>> deposits(AccountId account);
    // The audit's "chain_deposits" check: every deposit record against the ledger. Each credit
    // it counts is in the ledger (the deposit's amount, into its owner's wallet), none beyond
    // them is (except the one a pending deposit's crediting may be applying right now), and
    // what its credits and booked reversals add up to is its amount while it counts as
    // credited and nothing otherwise.
    [[nodiscard]] ledger::AuditCheck audit_deposits();
    // The address of a branch and index (for tests and the withdrawal engine).
    [[nodiscard]] std::string address_at(Branch branch, std::uint32_t index) const;
    [[nodiscard]] Bytes script_at(Branch branch, std::uint32_t index) const;
    // The signing key of one of our coins (secret: it wipes itself).
    [[nodiscard]] chain::PrivateKey private_key_at(Branch branch, std::uint32_t index) const;
    // A fresh internal (change) address, recorded so the watcher knows its outputs.
    [[nodiscard]] OnchainResult<AddressRecord> new_change_address();
    // The height the watcher has followed to (-1 before its first round).
    [[nodiscard]] std::int64_t tip_height() const { return m_tip_height.load(); }
    // Runs after every successful round with the followed height (the withdrawal engine).
    void set_after_sync(std::function<void(std::int64_t tip_height)> hook) { m_after_sync = std::move(hook); }

    // One round of following the node: reorg check, connect new blocks, credit, reverse.
    [[nodiscard]] OnchainResult<SyncReport> sync_once();
    [[nodiscard]] bool halted() const { return m_halted.load(); }
    [[nodiscard]] std::int64_t node_height() const { return m_node_height.load(); }

    // Several instances on one database: the watcher runs its rounds only while `holds` says
    // this process holds the watcher's lease (store::PgLease), asked before every round; unset,
    // it always does. Set before start().
    void set_lease(std::function<bool()> holds) { m_lease = std::move(holds); }
    // The watcher thread: sync_once every poll interval, backing off while the node is away.
    void start();
    void stop();

private:
    // Records the next index of the branch (the caller holds m_alloc_mutex).
    OnchainResult<AddressRecord> allocate(Branch branch, std::optional<AccountId> account);
    OnchainResult<void> disconnect_to(std::int64_t fork_height, std::int64_t tip_height, SyncReport& report);
    // A credit the ledger applied whose mark_credited was lost (a crash or a failed store call
    // between the two) leaves its deposit pending, and disconnecting its block would orphan it
    // and leave the user money no coins back. So before a reorg disconnects anything above
    // `fork_height`, the ledger is asked (the credit's id is derived) and each such deposit is
    // marked credited, which the disconnect then turns into a reversal.
    OnchainResult<void> record_applied_credits(std::int64_t fork_height);
    OnchainResult<bool> connect_height(std::int64_t height, const std::optional<BlockRecord>& parent);
    OnchainResult<std::int64_t> credit_confirmed(std::int64_t tip_height);
    OnchainResult<std::int64_t> book_reversals();
    OnchainResult<void> reverse_one(const DepositRecord& deposit);
    OnchainResult<void> ensure_account(const ledger::Account& account);
    void run_loop();

public:
    void alert(const std::string& line);

private:

    ChainStore& m_store;
    NodeRpc& m_node;
    ledger::Ledger& m_ledger;
    OnchainOptions m_options;
    const chain::NetworkParams& m_network;
    chain::ExtendedKey m_account_key;
    chain::ExtendedKey m_receive_key;  // public: m/84'/coin'/0'/0
    chain::ExtendedKey m_change_key;   // public: m/84'/coin'/0'/1
    FreezeHook m_freeze;
    AlertHook m_alert;
    std::function<void(std::int64_t)> m_after_sync;
    std::function<bool()> m_lease;

    std::mutex m_alloc_mutex;  // one address allocation at a time
    std::mutex m_sync_mutex;   // one sync round at a time
    std::atomic<bool> m_halted{false};
    std::atomic<std::int64_t> m_node_height{-1};
    std::atomic<std::int64_t> m_tip_height{-1};

    std::mutex m_loop_mutex;
    std::condition_variable m_loop_cv;
    bool m_stopping = false;
    std::thread m_thread;
};

// Deterministic ledger ids, so a restart or a re-scan applies each at most once: the first 16
// bytes of SHA-256("satload/v1 <kind>" || txid || vout || n) (high half kept non-zero).
[[nodiscard]] ledger::Id128 deposit_transfer_id(std::string_view kind, const chain::OutPoint& outpoint,
                                                std::int64_t n);

}  // namespace satload::onchain
