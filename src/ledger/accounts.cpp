// The chart of accounts and the operator credit transfer.
#include "ledger/accounts.h"

#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::ledger {
namespace {

Id128 hashed_id(std::string_view domain, std::string_view user_id) {
    crypto::Sha256 h;
    h.update(as_bytes(domain));
    h.update(as_bytes(user_id));
    const crypto::Sha256Digest d = h.finish();
    Id128 id = id_from_bytes(ByteSpan(d.data(), kIdBytes));
    // Keep clear of the system accounts' range (high half zero).
    if (id.high == 0) id.high = 1;
    return id;
}

Account account(Id128 id, AccountKind kind, std::uint16_t flags, std::string owner) {
    Account a;
    a.id = id;
    a.kind = kind;
    a.flags = flags;
    a.owner = std::move(owner);
    return a;
}

}  // namespace

std::vector<Account> system_accounts() {
    return {
        account(kPlatformRevenueId, AccountKind::platform_revenue, 0, ""),
        account(kOnchainAssetsId, AccountKind::onchain_assets, 0, ""),
        account(kPendingWithdrawalsId, AccountKind::pending_withdrawals, 0, ""),
        account(kOperatorAdjustmentsId, AccountKind::operator_adjustments, 0, ""),
        account(kNetworkFeesId, AccountKind::network_fees, 0, ""),
    };
}

Id128 user_wallet_id(std::string_view user_id) { return hashed_id("satload/v1 wallet", user_id); }

Account user_wallet(std::string_view user_id) {
    SATLOAD_ASSERT(user_id.size() <= kOwnerBytesMax);
    return account(user_wallet_id(user_id), AccountKind::user_wallet,
                   account_flags::debits_must_not_exceed_credits, std::string(user_id));
}

Id128 user_receivable_id(std::string_view user_id) {
    return hashed_id("satload/v1 receivable", user_id);
}

Account user_receivable(std::string_view user_id) {
    SATLOAD_ASSERT(user_id.size() <= kOwnerBytesMax);
    return account(user_receivable_id(user_id), AccountKind::receivable, 0, std::string(user_id));
}

std::string_view credit_error_name(CreditError e) {
    switch (e) {
        case CreditError::amount_zero: return "amount_zero";
        case CreditError::reason_too_long: return "reason_too_long";
        case CreditError::user_id_too_long: return "user_id_too_long";
    }
    return "unknown";
}

Result<Transfer, CreditError> operator_credit(Id128 id, std::string_view user_id, Msat amount,
                                              std::string_view reason) {
    if (amount.value <= 0) return fail(CreditError::amount_zero);
    if (reason.size() > kMemoBytesMax) return fail(CreditError::reason_too_long);
    if (user_id.size() > kOwnerBytesMax) return fail(CreditError::user_id_too_long);
    Transfer t;
    t.id = id;
    t.debit_account_id = kOperatorAdjustmentsId;
    t.credit_account_id = user_wallet_id(user_id);
    t.amount_msat = amount.value;
    t.code = transfer_code::adjustment;
    t.memo = std::string(reason);
    return t;
}

}  // namespace satload::ledger
