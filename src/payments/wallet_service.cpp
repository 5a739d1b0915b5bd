// Wallets over the ledger (see wallet_service.h).
#include "payments/wallet_service.h"

#include <charconv>

#include "ledger/accounts.h"

namespace satload::payments {

std::string wallet_user_id(AccountId account) { return std::to_string(account); }

ledger::Id128 wallet_id(AccountId account) { return ledger::user_wallet_id(wallet_user_id(account)); }

std::string_view transfer_code_name(std::uint16_t code) {
    namespace c = ledger::transfer_code;
    switch (code) {
        case c::deposit: return "deposit";
        case c::download_payment: return "download_payment";
        case c::referral_reward: return "referral_reward";
        case c::platform_fee: return "platform_fee";
        case c::withdrawal: return "withdrawal";
        case c::withdrawal_fee: return "withdrawal_fee";
        case c::adjustment: return "adjustment";
        case c::deposit_reversal: return "deposit_reversal";
        default: return "other";
    }
}

WalletService::WalletService(ledger::Ledger& ledger) : m_ledger(ledger) {}

WalletResult<void> WalletService::ensure_wallet(AccountId account) {
    const ledger::Id128 id = wallet_id(account);
    if (m_ledger.lookup_account(id)) return {};
    auto outcome = m_ledger.create_accounts({ledger::user_wallet(wallet_user_id(account))});
    if (!outcome) return fail(WalletFailure{WalletError::ledger_unavailable, outcome.error().message});
    const auto r = outcome->at(0).result;
    if (r != ledger::CreateAccountResult::ok && r != ledger::CreateAccountResult::exists) {
        return fail(WalletFailure{WalletError::ledger_unavailable,
                                  "the wallet could not be created: " + std::string(ledger::result_name(r))});
    }
    return {};
}

bool WalletService::has_wallet(AccountId account) const {
    return m_ledger.lookup_account(wallet_id(account)).has_value();
}

WalletBalance WalletService::balance(AccountId account) const {
    WalletBalance b;
    if (const auto a = m_ledger.lookup_account(wallet_id(account))) {
        b.balance_msat = a->balance_msat();
        b.available_msat = a->available_msat();
        b.pending_in_msat = a->credits_pending_msat;
        b.pending_out_msat = a->debits_pending_msat;
    }
    return b;
}

std::optional<AccountId> WalletService::wallet_owner(ledger::Id128 wallet) const {
    const auto a = m_ledger.lookup_account(wallet);
    if (!a || a->kind != ledger::AccountKind::user_wallet) return std::nullopt;
    AccountId account = 0;
    const char* end = a->owner.data() + a->owner.size();
    const auto [ptr, ec] = std::from_chars(a->owner.data(), end, account);
    // The round trip rejects owners that are not an account id in canonical decimal.
    if (ec != std::errc{} || ptr != end || wallet_id(account) != wallet) return std::nullopt;
    return account;
}

WalletResult<std::vector<WalletEntry>> WalletService::history(AccountId account, std::int64_t before_seq,
                                                              std::size_t limit) {
    const ledger::Id128 id = wallet_id(account);
    std::vector<WalletEntry> out;
    if (!m_ledger.lookup_account(id)) return out;
    auto entries = m_ledger.history(id, before_seq, std::min(limit, kHistoryPageMax));
    if (!entries) return fail(WalletFailure{WalletError::ledger_unavailable, entries.error().message});
    for (const auto& e : *entries) {
        if (e.kind != ledger::EntryKind::transfer && e.kind != ledger::EntryKind::expiry) continue;
        WalletEntry w;
        w.seq = e.seq;
        w.time_ns = e.timestamp_ns;
        w.transfer_id = e.id;
        const bool incoming = e.credit_account_id == id;
        w.amount_msat = incoming ? e.amount_msat : -e.amount_msat;
        w.code = e.code;
        w.flags = e.flags;
        w.counterparty = incoming ? e.debit_account_id : e.credit_account_id;
        w.user_data = e.user_data;
        w.memo = e.memo;
        out.push_back(std::move(w));
    }
    return out;
}

WalletResult<CreditReceipt> WalletService::credit(AccountId account, Msat amount, std::string_view reason,
                                                  ledger::Id128 id) {
    auto transfer = ledger::operator_credit(id, wallet_user_id(account), amount, reason);
    if (!transfer) {
        if (transfer.error() == ledger::CreditError::reason_too_long) {
            return fail(WalletFailure{WalletError::reason_too_long, "the reason is too long"});
        }
        return fail(WalletFailure{WalletError::bad_amount, "the amount must be above zero"});
    }
    if (auto r = ensure_wallet(account); !r) return fail(r.error());
    auto outcome = m_ledger.create_transfers({*transfer});
    if (!outcome) return fail(WalletFailure{WalletError::ledger_unavailable, outcome.error().message});
    const auto r = outcome->at(0).result;
    if (!ledger::applied(r)) {
        return fail(WalletFailure{WalletError::refused,
                                  "the ledger refused the credit: " + std::string(ledger::result_name(r)), r});
    }
    return CreditReceipt{id, r == ledger::TransferResult::ok, balance(account)};
}

}  // namespace satload::payments
