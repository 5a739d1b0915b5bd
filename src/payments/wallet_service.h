// Wallets over the ledger: each account's wallet (created on first use), its balance, its
// history, and the operator's credit. Every movement is a ledger transfer; this only names
// accounts and reads back what the ledger made durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accounts/account_store.h"
#include "core/money.h"
#include "core/result.h"
#include "ledger/ledger.h"

namespace satload::payments {

using accounts::AccountId;

// The ledger's user id of an account's wallet: its account id in decimal.
[[nodiscard]] std::string wallet_user_id(AccountId account);
[[nodiscard]] ledger::Id128 wallet_id(AccountId account);

// Entries of one history page at most.
inline constexpr std::size_t kHistoryPageMax = 500;

enum class WalletError {
    ledger_unavailable,  // closed or failed store: nothing was applied
    refused,             // the ledger refused the transfer (see result)
    bad_amount,          // zero, negative or above the supply
    reason_too_long,
};

struct WalletFailure {
    WalletError code;
    std::string message;
    ledger::TransferResult result = ledger::TransferResult::ok;  // for `refused`
};

template <class T>
using WalletResult = Result<T, WalletFailure>;

struct WalletBalance {
    std::int64_t balance_msat = 0;      // posted credits minus posted debits
    std::int64_t available_msat = 0;    // minus reservations (pending debits)
    std::int64_t pending_in_msat = 0;   // pending credits (e.g. unconfirmed deposits)
    std::int64_t pending_out_msat = 0;  // pending debits (e.g. withdrawals in flight)
};

// One movement of a wallet, as the journal recorded it.
struct WalletEntry {
    std::int64_t seq = 0;
    std::int64_t time_ns = 0;
    ledger::Id128 transfer_id;
    std::int64_t amount_msat = 0;  // positive: into the wallet; negative: out of it
    std::uint16_t code = 0;        // ledger::transfer_code
    std::uint16_t flags = 0;       // ledger::transfer_flags (pending, post, void)
    ledger::Id128 counterparty;    // the other account
    ledger::Id128 user_data;       // payments: the file id's 16 bytes
    std::string memo;
};

struct CreditReceipt {
    ledger::Id128 transfer_id;
    bool applied_now = false;  // false: the same id was applied before (a retry)
    WalletBalance balance;
};

class WalletService {
public:
    explicit WalletService(ledger::Ledger& ledger);

    // Creates the wallet unless it exists (idempotent, durable on return).
    WalletResult<void> ensure_wallet(AccountId account);
    // Whether the wallet exists in the ledger's committed state (never blocks).
    [[nodiscard]] bool has_wallet(AccountId account) const;
    [[nodiscard]] WalletBalance balance(AccountId account) const;
    // The account whose wallet this ledger account is (its owner string read back), or
    // nullopt for a system account or an id that is no wallet of an account.
    [[nodiscard]] std::optional<AccountId> wallet_owner(ledger::Id128 wallet) const;
    // Newest first, seq < before_seq (0: from the newest), at most `limit` (<= kHistoryPageMax).
    WalletResult<std::vector<WalletEntry>> history(AccountId account, std::int64_t before_seq,
                                                   std::size_t limit);
    // The operator's adjustment: operator_adjustments -> the account's wallet, with `id` as the
    // idempotency id (a retry with the same id applies once).
    WalletResult<CreditReceipt> credit(AccountId account, Msat amount, std::string_view reason,
                                       ledger::Id128 id);

    [[nodiscard]] ledger::Ledger& ledger() { return m_ledger; }

private:
    ledger::Ledger& m_ledger;
};

[[nodiscard]] std::string_view transfer_code_name(std::uint16_t code);

}  // namespace satload::payments
