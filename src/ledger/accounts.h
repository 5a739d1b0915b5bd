// satload's chart of accounts: the well-known system accounts every ledger has, the id of
// each user's wallet, and the transfer behind `satload admin credit`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "ledger/types.h"

namespace satload::ledger {

// System accounts have small fixed ids; user accounts have hashed ids (high half non-zero),
// so the two can never collide.
inline constexpr Id128 kPlatformRevenueId{0, 1};
inline constexpr Id128 kOnchainAssetsId{0, 2};
inline constexpr Id128 kPendingWithdrawalsId{0, 3};
inline constexpr Id128 kOperatorAdjustmentsId{0, 4};
inline constexpr Id128 kNetworkFeesId{0, 5};

// The system accounts, to create (idempotently) whenever a ledger is opened.
[[nodiscard]] std::vector<Account> system_accounts();

// A user's wallet: id = first 16 bytes of SHA-256("satload/v1 wallet" || user id), kind
// user_wallet, debits may never exceed credits, owner = the user id.
[[nodiscard]] Id128 user_wallet_id(std::string_view user_id);
[[nodiscard]] Account user_wallet(std::string_view user_id);
// What a user owes after a reorg took back a credited deposit the wallet could not cover.
[[nodiscard]] Id128 user_receivable_id(std::string_view user_id);
[[nodiscard]] Account user_receivable(std::string_view user_id);

enum class CreditError { amount_zero, reason_too_long, user_id_too_long };
[[nodiscard]] std::string_view credit_error_name(CreditError e);

// `satload admin credit USER AMOUNT --reason TEXT`: operator_adjustments -> the user's wallet,
// code adjustment, the reason as memo. `id` should be time_ordered_id(...), kept by the caller
// so that a retry of the command retries the same transfer.
[[nodiscard]] Result<Transfer, CreditError> operator_credit(Id128 id, std::string_view user_id,
                                                            Msat amount, std::string_view reason);

}  // namespace satload::ledger
