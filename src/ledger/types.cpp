// Names of the ledger's enums and the byte/text forms of ids.
#include "ledger/types.h"

#include "core/check.h"

namespace satload::ledger {

IdBytes id_bytes(Id128 id) {
    IdBytes out{};
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(id.high >> (56 - 8 * i));
        out[8 + i] = static_cast<std::uint8_t>(id.low >> (56 - 8 * i));
    }
    return out;
}

Id128 id_from_bytes(ByteSpan bytes) {
    SATLOAD_ASSERT(bytes.size() == kIdBytes);
    Id128 id;
    for (std::size_t i = 0; i < 8; ++i) {
        id.high = (id.high << 8) | bytes[i];
        id.low = (id.low << 8) | bytes[8 + i];
    }
    return id;
}

Id128 time_ordered_id(std::int64_t now_ns, std::uint64_t random_high, std::uint64_t random_low) {
    const auto ms = static_cast<std::uint64_t>(now_ns < 0 ? 0 : now_ns / 1'000'000);
    Id128 id{(ms << 16) | (random_high & 0xffff), random_low};
    // Zero is reserved; it can only come out at the epoch with zero randomness.
    if (id.is_zero()) id.low = 1;
    return id;
}

std::string id_hex(Id128 id) {
    const IdBytes b = id_bytes(id);
    return hex_encode(b);
}

std::optional<Id128> parse_id_hex(std::string_view text) {
    if (text.size() != 2 * kIdBytes) return std::nullopt;
    const auto bytes = hex_decode(text);
    if (!bytes) return std::nullopt;
    return id_from_bytes(*bytes);
}

std::string_view account_kind_name(AccountKind kind) {
    switch (kind) {
        case AccountKind::user_wallet: return "user_wallet";
        case AccountKind::platform_revenue: return "platform_revenue";
        case AccountKind::onchain_assets: return "onchain_assets";
        case AccountKind::pending_withdrawals: return "pending_withdrawals";
        case AccountKind::operator_adjustments: return "operator_adjustments";
        case AccountKind::receivable: return "receivable";
        case AccountKind::network_fees: return "network_fees";
    }
    return "invalid";
}

std::optional<AccountKind> parse_account_kind(std::string_view name) {
    for (std::uint16_t k = 1; k <= kAccountKindMax; ++k) {
        if (account_kind_name(static_cast<AccountKind>(k)) == name) {
            return static_cast<AccountKind>(k);
        }
    }
    return std::nullopt;
}

std::string_view result_name(CreateAccountResult r) {
    using R = CreateAccountResult;
    switch (r) {
        case R::ok: return "ok";
        case R::id_must_not_be_zero: return "id_must_not_be_zero";
        case R::kind_invalid: return "kind_invalid";
        case R::flags_invalid: return "flags_invalid";
        case R::flags_are_mutually_exclusive: return "flags_are_mutually_exclusive";
        case R::owner_too_long: return "owner_too_long";
        case R::exists_with_different_kind: return "exists_with_different_kind";
        case R::exists_with_different_flags: return "exists_with_different_flags";
        case R::exists_with_different_owner: return "exists_with_different_owner";
        case R::exists: return "exists";
    }
    return "unknown";
}

std::string_view result_name(TransferResult r) {
    using R = TransferResult;
    switch (r) {
        case R::ok: return "ok";
        case R::linked_event_failed: return "linked_event_failed";
        case R::linked_event_chain_open: return "linked_event_chain_open";
        case R::id_must_not_be_zero: return "id_must_not_be_zero";
        case R::flags_invalid: return "flags_invalid";
        case R::flags_are_mutually_exclusive: return "flags_are_mutually_exclusive";
        case R::memo_too_long: return "memo_too_long";
        case R::pending_id_must_be_zero: return "pending_id_must_be_zero";
        case R::pending_id_must_not_be_zero: return "pending_id_must_not_be_zero";
        case R::pending_id_must_be_different: return "pending_id_must_be_different";
        case R::timeout_reserved_for_pending_transfer:
            return "timeout_reserved_for_pending_transfer";
        case R::debit_account_id_must_not_be_zero: return "debit_account_id_must_not_be_zero";
        case R::credit_account_id_must_not_be_zero: return "credit_account_id_must_not_be_zero";
        case R::accounts_must_be_different: return "accounts_must_be_different";
        case R::amount_must_not_be_negative: return "amount_must_not_be_negative";
        case R::amount_exceeds_supply: return "amount_exceeds_supply";
        case R::amount_must_not_be_zero: return "amount_must_not_be_zero";
        case R::code_must_not_be_zero: return "code_must_not_be_zero";
        case R::exists_with_different_flags: return "exists_with_different_flags";
        case R::exists_with_different_debit_account_id:
            return "exists_with_different_debit_account_id";
        case R::exists_with_different_credit_account_id:
            return "exists_with_different_credit_account_id";
        case R::exists_with_different_amount: return "exists_with_different_amount";
        case R::exists_with_different_pending_id: return "exists_with_different_pending_id";
        case R::exists_with_different_timeout: return "exists_with_different_timeout";
        case R::exists_with_different_code: return "exists_with_different_code";
        case R::exists_with_different_user_data: return "exists_with_different_user_data";
        case R::exists_with_different_memo: return "exists_with_different_memo";
        case R::exists: return "exists";
        case R::debit_account_not_found: return "debit_account_not_found";
        case R::credit_account_not_found: return "credit_account_not_found";
        case R::pending_transfer_not_found: return "pending_transfer_not_found";
        case R::pending_transfer_not_pending: return "pending_transfer_not_pending";
        case R::pending_transfer_has_different_debit_account_id:
            return "pending_transfer_has_different_debit_account_id";
        case R::pending_transfer_has_different_credit_account_id:
            return "pending_transfer_has_different_credit_account_id";
        case R::pending_transfer_already_posted: return "pending_transfer_already_posted";
        case R::pending_transfer_already_voided: return "pending_transfer_already_voided";
        case R::pending_transfer_expired: return "pending_transfer_expired";
        case R::pending_transfer_has_different_amount:
            return "pending_transfer_has_different_amount";
        case R::exceeds_pending_transfer_amount: return "exceeds_pending_transfer_amount";
        case R::overflows_debits: return "overflows_debits";
        case R::overflows_credits: return "overflows_credits";
        case R::exceeds_credits: return "exceeds_credits";
        case R::exceeds_debits: return "exceeds_debits";
    }
    return "unknown";
}

}  // namespace satload::ledger
