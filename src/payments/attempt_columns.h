// The payment_attempts columns as both payment stores name them in SQL (the same names on
// SQLite and PostgreSQL), so an insert, an upsert and a read list them in one order.
#pragma once

namespace satload::payments {

inline constexpr const char* kAttemptColumns =
    "payer_account_id, file_id, attempt_no, state, uploader_account_id, referrer_account_id, "
    "price_msat, uploader_msat, referrer_msat, platform_msat, created_s, expires_s, "
    "payee_account_id, held, hold_outcome, settled_account_id";
// Every column but the key, from the row an upsert offered (ON CONFLICT ... DO UPDATE SET).
inline constexpr const char* kAttemptUpdate =
    "state = excluded.state, uploader_account_id = excluded.uploader_account_id, "
    "referrer_account_id = excluded.referrer_account_id, price_msat = excluded.price_msat, "
    "uploader_msat = excluded.uploader_msat, referrer_msat = excluded.referrer_msat, "
    "platform_msat = excluded.platform_msat, created_s = excluded.created_s, expires_s = excluded.expires_s, "
    "payee_account_id = excluded.payee_account_id, held = excluded.held, hold_outcome = excluded.hold_outcome, "
    "settled_account_id = excluded.settled_account_id";

}  // namespace satload::payments
