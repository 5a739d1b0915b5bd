// What the wallet API and the paywall reach: wallets over the ledger and the paywall (both in
// payments/), beside the account service that names the caller.
#pragma once

#include "payments/paywall.h"
#include "payments/wallet_service.h"

namespace satload::server {

struct WalletContext {
    payments::WalletService& wallets;
    payments::Paywall& paywall;
};

}  // namespace satload::server
