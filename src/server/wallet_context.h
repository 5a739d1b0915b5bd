// What the wallet API and the paywall reach: the ledger, beside the account service that names
// the payer, and the payment split and grant lifetime the operator chose.
#pragma once

#include <chrono>

#include "accounts/account_service.h"
#include "ledger/ledger.h"
#include "ledger/split.h"

namespace satload::server {

struct WalletContext {
    ledger::Ledger& ledger;
    ledger::SplitShares split;
    std::chrono::seconds grant_lifetime{24 * 3600};
};

}  // namespace satload::server
