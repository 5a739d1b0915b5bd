// Paid downloads (see paywall.h).
#include "payments/paywall.h"

#include <algorithm>
#include <utility>

#include "core/check.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/primitives.h"
#include "ledger/accounts.h"

namespace satload::payments {
namespace {

constexpr std::uint8_t kInvoiceVersion = 1;
constexpr std::size_t kInvoiceMacBytes = 16;
// version | file id (22) | price (8) | issued (8) | code length (1) | code (0 or 12) | MAC.
constexpr std::size_t kInvoiceBytesMin = 1 + kFileIdChars + 8 + 8 + 1 + kInvoiceMacBytes;
constexpr std::size_t kInvoiceCharsMax = 128;

void put_u64(Bytes& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
std::uint64_t get_u64(ByteSpan in) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | in[i];
    return v;
}

bool is_referral_code(std::string_view code) {
    if (code.size() != kReferralCodeChars) return false;
    const auto bytes = base64url_decode(code);
    return bytes && bytes->size() == kReferralCodeBytes;
}

// download_payment_transfers' legs: 0 the uploader's, 1 the referrer's, 2 the platform's.
constexpr std::uint8_t kPaymentLegs = 3;

// The ledger has seen this transfer id before (applied, identical or not).
bool is_seen_before(ledger::TransferResult r) {
    using R = ledger::TransferResult;
    return r == R::exists || (r >= R::exists_with_different_flags && r <= R::exists_with_different_memo);
}

template <std::size_t N>
void derive(ByteSpan secret, std::string_view info, std::array<std::uint8_t, N>& out) {
    crypto::hkdf_sha256(secret, {}, as_bytes(info), out);
}

}  // namespace

std::string_view pay_error_name(PayError e) {
    switch (e) {
        case PayError::invoice_invalid: return "invoice_invalid";
        case PayError::invoice_expired: return "invoice_expired";
        case PayError::file_gone: return "file_gone";
        case PayError::price_changed: return "price_changed";
        case PayError::price_above_maximum: return "price_above_maximum";
        case PayError::not_priced: return "not_priced";
        case PayError::own_file: return "own_file";
        case PayError::insufficient_funds: return "insufficient_funds";
        case PayError::unavailable: return "unavailable";
    }
    return "unknown";
}

Paywall::Paywall(WalletService& wallets, PaymentStore& store, FileLookup lookup, PaywallOptions options,
                 ByteSpan secret)
    : m_wallets(wallets), m_store(store), m_lookup(std::move(lookup)), m_options(std::move(options)) {
    SATLOAD_ASSERT(secret.size() == kPaywallSecretBytes);
    SATLOAD_ASSERT(m_options.clock_s != nullptr);
    derive(secret, "satload/v1 paywall macaroon", m_macaroon_key);
    derive(secret, "satload/v1 paywall invoice", m_invoice_key);
    derive(secret, "satload/v1 paywall preimage", m_preimage_key);
}

Paywall::~Paywall() {
    crypto::secure_wipe(m_macaroon_key);
    crypto::secure_wipe(m_invoice_key);
    crypto::secure_wipe(m_preimage_key);
}

ledger::Id128 Paywall::payment_id(AccountId payer, const std::string& file_id, std::int64_t attempt_no) {
    // Fields separated by NUL bytes, which none of them can contain.
    std::string text("satload/v1 payment");
    for (const std::string& field : {std::to_string(payer), file_id, std::to_string(attempt_no)}) {
        text += '\0';
        text += field;
    }
    const auto digest = crypto::sha256(as_bytes(text));
    return ledger::id_from_bytes(ByteSpan(digest.data(), ledger::kIdBytes));
}

HandOffMutex& Paywall::lock_for(AccountId payer, const std::string& file_id) {
    const std::size_t h = std::hash<std::string>{}(file_id) ^ (static_cast<std::size_t>(payer) * 0x9e3779b97f4a7c15ULL);
    return m_locks[h % kPayLockStripes];
}

std::string Paywall::encode_invoice(const Invoice& inv) const {
    Bytes b;
    b.push_back(kInvoiceVersion);
    b.insert(b.end(), inv.file_id.begin(), inv.file_id.end());
    put_u64(b, static_cast<std::uint64_t>(inv.price_msat));
    put_u64(b, static_cast<std::uint64_t>(inv.issued_s));
    b.push_back(static_cast<std::uint8_t>(inv.referral_code.size()));
    b.insert(b.end(), inv.referral_code.begin(), inv.referral_code.end());
    const auto mac = crypto::hmac_sha256(m_invoice_key, b);
    b.insert(b.end(), mac.begin(), mac.begin() + kInvoiceMacBytes);
    return base64url_encode(b);
}

PayResult<Paywall::Invoice> Paywall::decode_invoice(std::string_view text) const {
    const PayFailure invalid{PayError::invoice_invalid, "this is not an invoice of this server"};
    if (text.size() > kInvoiceCharsMax) return fail(invalid);
    const auto bytes = base64url_decode(text);
    if (!bytes || bytes->size() < kInvoiceBytesMin || (*bytes)[0] != kInvoiceVersion) return fail(invalid);
    const ByteSpan b(*bytes);
    const std::size_t code_at = 1 + kFileIdChars + 16;
    const std::size_t code_len = b[code_at];
    if (b.size() != kInvoiceBytesMin + code_len) return fail(invalid);
    const std::size_t mac_at = code_at + 1 + code_len;
    const auto mac = crypto::hmac_sha256(m_invoice_key, b.first(mac_at));
    if (!crypto::constant_time_equal(ByteSpan(mac.data(), kInvoiceMacBytes), b.subspan(mac_at))) {
        return fail(invalid);
    }
    Invoice inv;
    inv.file_id.assign(reinterpret_cast<const char*>(b.data()) + 1, kFileIdChars);
    inv.price_msat = static_cast<std::int64_t>(get_u64(b.subspan(1 + kFileIdChars)));
    inv.issued_s = static_cast<std::int64_t>(get_u64(b.subspan(1 + kFileIdChars + 8)));
    inv.referral_code.assign(reinterpret_cast<const char*>(b.data()) + code_at + 1, code_len);
    // Only this server mints invoices, so these hold for any that passed the MAC.
    if (!is_file_id(inv.file_id) || inv.price_msat <= 0) return fail(invalid);
    if (m_options.clock_s() - inv.issued_s > kInvoiceLifetimeS) {
        return fail(PayFailure{PayError::invoice_expired, "the invoice expired: request the file again"});
    }
    return inv;
}

Challenge Paywall::challenge(const std::string& file_id, std::int64_t price_msat,
                             std::string_view referral_code) const {
    Invoice inv{file_id, price_msat, m_options.clock_s(), {}};
    if (is_referral_code(referral_code)) inv.referral_code = std::string(referral_code);
    Challenge c;
    c.price_msat = price_msat;
    c.invoice = encode_invoice(inv);
    // The challenge's macaroon names the file and the invoice's end, but no payer: it can
    // never pass as a grant. The grant's macaroon comes from POST /api/v1/pay.
    crypto::L402Identifier id;
    id.payment_hash = crypto::sha256(as_bytes(c.invoice));
    id.token_id = crypto::random_token_id();
    crypto::Macaroon m = crypto::mint_macaroon(m_macaroon_key, crypto::encode_l402_identifier(id), m_options.location);
    crypto::add_first_party_caveat(m, crypto::format_caveat(crypto::kCaveatFileId, file_id));
    crypto::add_first_party_caveat(
        m, crypto::format_caveat(crypto::kCaveatExpires, std::to_string(inv.issued_s + kInvoiceLifetimeS)));
    c.www_authenticate = crypto::format_l402_challenge(m, c.invoice);
    return c;
}

crypto::Preimage Paywall::preimage_of(ledger::Id128 payment_id) const {
    const auto id = ledger::id_bytes(payment_id);
    return crypto::hmac_sha256(m_preimage_key, id);
}

PaidGrant Paywall::grant_of(const PaymentAttempt& attempt, bool charged_now) const {
    PaidGrant g;
    g.payment_id = payment_id(attempt.payer, attempt.file_id, attempt.attempt_no);
    crypto::Preimage preimage = preimage_of(g.payment_id);
    crypto::L402Identifier id;
    id.payment_hash = crypto::sha256(preimage);
    id.token_id = crypto::random_token_id();
    crypto::Macaroon m = crypto::mint_macaroon(m_macaroon_key, crypto::encode_l402_identifier(id), m_options.location);
    crypto::add_grant_caveats(m, crypto::GrantCaveats{attempt.file_id, attempt.payer, attempt.expires_s});
    g.macaroon = crypto::encode_macaroon_base64(m);
    g.preimage_hex = hex_encode(preimage);
    crypto::secure_wipe(preimage);
    g.attempt = attempt;
    g.charged_now = charged_now;
    return g;
}

PayResult<PaidGrant> Paywall::pay(AccountId payer, std::string_view invoice_text, std::int64_t max_msat) {
    auto grant = pay_locked(payer, invoice_text, max_msat);
    // A held attempt completed after its file stopped being held (a retry of an attempt a crash
    // left pending across the decision): settle it now rather than at the next start.
    if (grant && grant->charged_now && grant->attempt.held && m_hold_policy &&
        !m_hold_policy(grant->attempt.file_id)) {
        (void)settle_holds(grant->attempt.file_id);  // on failure the start-up sweep retries
    }
    return grant;
}

PayResult<PaidGrant> Paywall::pay_locked(AccountId payer, std::string_view invoice_text, std::int64_t max_msat) {
    PendingPayment p;
    Begun begun = begin(p, payer, invoice_text, max_msat, true);
    if (begun.answer) return std::move(*begun.answer);
    auto outcome = m_wallets.ledger().create_transfers(std::move(p.legs));
    auto answer = finish(p, std::move(outcome), true);
    SATLOAD_ASSERT(answer.has_value());  // finish only defers when it may not block
    return std::move(*answer);
}

bool Paywall::inline_payments() const {
    return m_options.inline_payments && !m_store.shared_by_servers();
}

Paywall::InlineStart Paywall::begin_inline(AccountId payer, std::string_view invoice_text,
                                           std::int64_t max_msat) {
    InlineStart start;
    if (!inline_payments()) return start;
    auto p = std::unique_ptr<PendingPayment>(new PendingPayment());
    Begun begun = begin(*p, payer, invoice_text, max_msat, false);
    if (begun.answer) {
        start.answer = std::move(begun.answer);
    } else if (!begun.blocked) {
        start.pending = std::move(p);
    }
    return start;
}

std::optional<PayResult<PaidGrant>> Paywall::finish_inline(
    std::unique_ptr<PendingPayment> pending,
    ledger::LedgerResult<std::vector<ledger::TransferOutcome>> outcome) {
    SATLOAD_ASSERT(pending != nullptr);
    // Never held (begin defers those to pay()), so pay()'s hold settlement has nothing to do.
    return finish(*pending, std::move(outcome), false);
}

Paywall::PendingPayment::~PendingPayment() { release(); }

void Paywall::PendingPayment::release() {
    if (stripe != nullptr) std::exchange(stripe, nullptr)->unlock();
    if (hold != nullptr) std::exchange(hold, nullptr)->unlock_shared();
}

Paywall::Begun Paywall::begin(PendingPayment& p, AccountId payer, std::string_view invoice_text,
                              std::int64_t max_msat, bool may_block) {
    Begun out;
    const auto answer = [&out](PayResult<PaidGrant> r) {
        out.answer = std::move(r);
        return std::move(out);
    };
    const auto blocked = [&out] {
        out.blocked = true;
        return std::move(out);
    };
    auto inv = decode_invoice(invoice_text);
    if (!inv) return answer(fail(inv.error()));
    const auto facts = m_lookup(inv->file_id);
    if (!facts)
        return answer(fail(PayFailure{PayError::file_gone, "the file is no longer available"}));
    if (facts->price_msat <= 0)
        return answer(fail(PayFailure{PayError::not_priced, "the file is free"}));
    if (facts->price_msat != inv->price_msat) {
        return answer(
            fail(PayFailure{PayError::price_changed, "the price changed: request the file again"}));
    }
    if (facts->owner == payer) {
        return answer(fail(PayFailure{PayError::own_file,
                                      "you own this file: it downloads free with your session"}));
    }
    if (facts->price_msat > max_msat) {
        return answer(fail(PayFailure{PayError::price_above_maximum,
                                      "the price is " + std::to_string(facts->price_msat) +
                                          " msat, above the " + std::to_string(max_msat) +
                                          " msat you allowed"}));
    }
    std::optional<AccountId> referrer;
    if (!inv->referral_code.empty()) {
        auto owner = m_store.referral_owner(inv->referral_code);
        if (!owner) return answer(fail(PayFailure{PayError::unavailable, owner.error().message}));
        referrer = *owner;
    }
    const auto unavailable = [](std::string message) { return PayFailure{PayError::unavailable, std::move(message)}; };

    // Shared until the attempt is recorded: settle_holds waits for a payment the policy held.
    HandOffMutex& stripe = lock_for(payer, inv->file_id);
    if (may_block) {
        m_hold_mutex.lock_shared();
        p.hold = &m_hold_mutex;
        stripe.lock();
        p.stripe = &stripe;
    } else {
        // Busy (a settlement, or a payment of this payer and file): pay() waits its turn.
        if (!m_hold_mutex.try_lock_shared()) return blocked();
        p.hold = &m_hold_mutex;
        if (!stripe.try_lock()) return blocked();
        p.stripe = &stripe;
    }
    p.now = m_options.clock_s();
    const std::int64_t now = p.now;
    auto latest = m_store.latest_attempt(payer, inv->file_id);
    if (!latest) return answer(fail(unavailable(latest.error().message)));
    if (*latest && (*latest)->state == AttemptState::granted && (*latest)->expires_s > now) {
        return answer(grant_of(**latest, false));
    }
    PaymentAttempt& attempt = p.attempt;
    // Whether the attempt is recorded (pending) before its ledger group: always when servers
    // share the records; otherwise it is recorded once, with its outcome (see
    // PaymentStore::shared_by_servers), and a crash before that is caught by the ledger.
    bool& recorded_pending = p.recorded_pending;
    bool follow = *latest && (*latest)->state == AttemptState::pending;
    if (follow) {
        // Its recovery may read the ledger back and rewrite the record.
        if (!may_block) return blocked();
        // Left by a crash (or another server) between recording and settling: settle the same
        // payment id, which the ledger applies at most once.
        attempt = **latest;
        recorded_pending = true;
        // It is followed as recorded, at its price then: above what the payer allows now (the
        // price fell since) it may only be granted if the ledger applied it already.
        if (attempt.price_msat > max_msat) {
            const auto applied = applied_attempt(attempt);
            if (!applied) return answer(fail(applied.error()));
            if (!*applied && m_store.shared_by_servers()) {
                // Another server may be applying it right now: a new attempt could charge twice.
                return answer(fail(PayFailure{PayError::price_above_maximum,
                                              "a payment of " + std::to_string(attempt.price_msat) +
                                                  " msat for this file is pending, above the " +
                                                  std::to_string(max_msat) + " msat you allowed"}));
            }
            if (!*applied) {
                // One server, and this lock held: nothing else can apply the old group any more
                // (a crash or a failed ledger call left it), so it ends failed and a new attempt
                // is made at today's price.
                if (auto r = m_store.finish_attempt(attempt.payer, attempt.file_id,
                                                    attempt.attempt_no, AttemptState::failed, 0);
                    !r) {
                    return answer(fail(unavailable(r.error().message)));
                }
                follow = false;
                recorded_pending = false;
            }
        }
    }
    if (!follow) {
        attempt = PaymentAttempt{};
        attempt.payer = payer;
        attempt.file_id = inv->file_id;
        attempt.attempt_no = *latest ? (*latest)->attempt_no + 1 : 1;
        attempt.uploader = facts->owner;
        auto redirect = m_store.redirect_of(inv->file_id);
        if (!redirect) return answer(fail(unavailable(redirect.error().message)));
        if (*redirect && (*redirect)->claimant != facts->owner) attempt.payee = (*redirect)->claimant;
        if (attempt.payee == payer) {
            return answer(fail(PayFailure{PayError::own_file,
                                          "this file's earnings go to you: it downloads free"}));
        }
        const AccountId leg_account = attempt.uploader_leg_account();
        const bool has_referrer = referrer && *referrer != payer && *referrer != facts->owner && *referrer != leg_account;
        auto split = ledger::split_price(facts->price_msat, m_options.split, has_referrer);
        if (!split) return answer(fail(unavailable("the price cannot be split")));
        if (has_referrer && split->referrer_msat > 0) attempt.referrer = referrer;
        attempt.price_msat = facts->price_msat;
        attempt.uploader_msat = split->uploader_msat;
        attempt.referrer_msat = attempt.referrer ? split->referrer_msat : 0;
        attempt.platform_msat = split->platform_msat;
        attempt.held = attempt.uploader_msat > 0 && m_hold_policy && m_hold_policy(inv->file_id);
        attempt.created_s = now;
        attempt.expires_s = 0;
        // A held attempt is recorded first too: its reservation is settled only through its
        // record, so a crash after the ledger group must not leave the group without one: the
        // store syncs a held record before it answers (of the machine too).
        if (m_store.shared_by_servers() || attempt.held) {
            if (!may_block) return blocked();  // a synced record first
            if (auto r = m_store.insert_attempt(attempt); !r) {
                // Another server started this very attempt: follow it on the next request.
                return answer(fail(unavailable(r.error().code == StoreError::exists
                                                   ? "a payment for this file is in progress: retry"
                                                   : r.error().message)));
            }
            recorded_pending = true;
        }
    }
    std::vector<AccountId> wallets{attempt.payer, attempt.uploader_leg_account()};
    if (attempt.referrer) wallets.push_back(*attempt.referrer);
    for (const AccountId a : wallets) {
        if (!may_block) {
            if (!m_wallets.has_wallet(a)) return blocked();  // creating one waits for a commit
        } else if (auto r = m_wallets.ensure_wallet(a); !r) {
            return answer(fail(unavailable(r.error().message)));
        }
    }
    auto legs = legs_of(attempt);
    if (!legs) return answer(fail(legs.error()));
    p.legs = std::move(*legs);
    return out;
}

std::optional<PayResult<PaidGrant>> Paywall::finish(
    PendingPayment& p, ledger::LedgerResult<std::vector<ledger::TransferOutcome>> outcome,
    bool may_block) {
    const auto unavailable = [](std::string message) {
        return PayFailure{PayError::unavailable, std::move(message)};
    };
    PaymentAttempt& attempt = p.attempt;
    const std::int64_t now = p.now;
    // The attempt's outcome: ends the pending record, or is the attempt's one record.
    const auto record_outcome = [&](AttemptState state,
                                    std::int64_t expires_s) -> StoreResult<void> {
        if (p.recorded_pending) {
            return m_store.finish_attempt(attempt.payer, attempt.file_id, attempt.attempt_no, state, expires_s);
        }
        PaymentAttempt done = attempt;
        done.state = state;
        done.expires_s = expires_s;
        return m_store.insert_attempt(done);
    };
    if (!outcome) return fail(unavailable(outcome.error().message));  // stays pending: retried
    if (std::any_of(outcome->begin(), outcome->end(), [](const auto& o) { return is_seen_before(o.result); })) {
        // Reading back what the ledger applied waits for the ledger's writer: pay() does it.
        if (!may_block) return std::nullopt;
        // The ledger holds this payment id: a retry, or a crash lost the attempt's record
        // after the ledger applied it and this one was built again from today's facts (price,
        // redirect, referral code, hold). What the ledger applied is what was bought: record
        // that attempt and grant it, charging nothing more.
        auto applied = applied_attempt(attempt);
        if (!applied) return fail(applied.error());
        if (!*applied) return fail(unavailable("the ledger holds no applied leg of the payment"));
        attempt = std::move(**applied);
        attempt.state = AttemptState::granted;
        attempt.expires_s = now + m_options.grant_lifetime_s;
        if (auto r = m_store.record_recovered_attempt(attempt); !r) return fail(unavailable(r.error().message));
        return grant_of(attempt, true);
    }
    ledger::TransferResult refused = ledger::TransferResult::ok;
    for (const auto& o : *outcome) {
        if (ledger::applied(o.result) || o.result == ledger::TransferResult::linked_event_failed)
            continue;
        refused = o.result;
        break;
    }
    if (refused == ledger::TransferResult::ok) {
        for (const auto& o : *outcome) {
            if (o.result == ledger::TransferResult::linked_event_failed) refused = o.result;
        }
    }
    if (refused != ledger::TransferResult::ok) {
        if (auto r = record_outcome(AttemptState::failed, 0); !r && r.error().code != StoreError::not_found) {
            return fail(unavailable(r.error().message));
        }
        if (refused == ledger::TransferResult::exceeds_credits) {
            const auto have = m_wallets.balance(attempt.payer).available_msat;
            return fail(PayFailure{PayError::insufficient_funds,
                                   "the price is " + std::to_string(attempt.price_msat) + " msat and the wallet has " +
                                       std::to_string(have) + " msat available"});
        }
        return fail(unavailable("the ledger refused the payment: " + std::string(ledger::result_name(refused))));
    }
    attempt.state = AttemptState::granted;
    attempt.expires_s = now + m_options.grant_lifetime_s;
    if (auto r = record_outcome(AttemptState::granted, attempt.expires_s); !r) {
        // The money moved; the retry settles the same payment id and records the grant.
        return fail(unavailable(r.error().message));
    }
    return grant_of(attempt, true);
}

PayResult<std::optional<PaymentAttempt>> Paywall::applied_attempt(const PaymentAttempt& built) {
    const auto unavailable = [](std::string message) { return PayFailure{PayError::unavailable, std::move(message)}; };
    const ledger::Id128 pid = payment_id(built.payer, built.file_id, built.attempt_no);
    std::vector<ledger::Id128> ids;
    for (std::uint8_t leg = 0; leg < kPaymentLegs; ++leg) ids.push_back(ledger::payment_leg_id(pid, leg));
    auto found = m_wallets.ledger().lookup_transfers(std::move(ids));
    if (!found) return fail(unavailable(found.error().message));
    PaymentAttempt a;
    a.payer = built.payer;
    a.file_id = built.file_id;
    a.attempt_no = built.attempt_no;
    a.uploader = built.uploader;
    a.created_s = built.created_s;
    const auto owner_of = [this](ledger::Id128 wallet) { return m_wallets.wallet_owner(wallet); };
    for (const ledger::KnownTransfer& k : *found) {
        if (k.failure) continue;  // a refused group applied nothing
        const ledger::Transfer& t = k.transfer;
        if (t.debit_account_id != wallet_id(built.payer)) return fail(unavailable("a payment leg has another payer"));
        if (t.code == ledger::transfer_code::download_payment) {
            const auto payee = owner_of(t.credit_account_id);
            if (!payee) return fail(unavailable("a payment's uploader leg credits no account's wallet"));
            if (*payee != a.uploader) a.payee = *payee;
            a.uploader_msat = t.amount_msat;
            a.held = (t.flags & ledger::transfer_flags::pending) != 0;
        } else if (t.code == ledger::transfer_code::referral_reward) {
            a.referrer = owner_of(t.credit_account_id);
            if (!a.referrer) return fail(unavailable("a payment's referral leg credits no account's wallet"));
            a.referrer_msat = t.amount_msat;
        } else if (t.code == ledger::transfer_code::platform_fee) {
            a.platform_msat = t.amount_msat;
        } else {
            return fail(unavailable("a payment leg has an unknown code"));
        }
        a.price_msat += t.amount_msat;
    }
    if (a.price_msat <= 0) return std::optional<PaymentAttempt>();  // no leg applied
    return std::optional(std::move(a));
}

PayResult<std::vector<ledger::Transfer>> Paywall::legs_of(const PaymentAttempt& attempt) const {
    ledger::DownloadPayment p;
    p.payment_id = payment_id(attempt.payer, attempt.file_id, attempt.attempt_no);
    p.payer_account_id = wallet_id(attempt.payer);
    p.uploader_account_id = wallet_id(attempt.uploader_leg_account());
    p.platform_account_id = ledger::kPlatformRevenueId;
    if (attempt.referrer) p.referrer_account_id = wallet_id(*attempt.referrer);
    if (const auto fid = base64url_decode(attempt.file_id); fid && fid->size() == ledger::kIdBytes) {
        p.user_data = ledger::id_from_bytes(*fid);
    }
    // The recorded split is what the group moves: the shares may have changed since (a leg
    // the shares would make 0 msat today is still the recorded one).
    auto legs = ledger::download_payment_legs(
        p,
        ledger::PaymentSplit{attempt.uploader_msat, attempt.referrer_msat, attempt.platform_msat});
    if (legs.empty()) return fail(PayFailure{PayError::unavailable, "the payment cannot be built"});
    for (auto& t : legs) {
        // Held: reserved from the payer and shown to the payee as pending, posted or voided
        // when the report is resolved. No timeout: only a decision settles it.
        if (t.code == ledger::transfer_code::download_payment && attempt.held)
            t.flags |= ledger::transfer_flags::pending;
    }
    return legs;
}

ledger::Id128 Paywall::settlement_id(ledger::Id128 payment_id, std::string_view step) {
    std::string text("satload/v1 hold settlement");
    text += '\0';
    text += ledger::id_hex(payment_id);
    text += '\0';
    text += step;
    const auto digest = crypto::sha256(as_bytes(text));
    return ledger::id_from_bytes(ByteSpan(digest.data(), ledger::kIdBytes));
}

StoreResult<void> Paywall::redirect_earnings(const std::string& file_id, AccountId claimant, bool include_held) {
    return m_store.set_redirect(EarningsRedirect{file_id, claimant, include_held, m_options.clock_s()});
}

PayResult<void> Paywall::settle_one(const PaymentAttempt& a, const std::optional<EarningsRedirect>& redirect,
                                    HoldSettlement& out) {
    const auto unavailable = [](std::string message) { return PayFailure{PayError::unavailable, std::move(message)}; };
    auto legs = legs_of(a);
    if (!legs) return fail(legs.error());
    const ledger::Transfer* held = nullptr;
    for (const auto& t : *legs) {
        if ((t.flags & ledger::transfer_flags::pending) != 0) held = &t;
    }
    SATLOAD_ASSERT(held != nullptr);
    const ledger::Id128 pid = payment_id(a.payer, a.file_id, a.attempt_no);
    const bool redirect_now = redirect && redirect->include_held && redirect->claimant != a.uploader_leg_account();
    std::vector<ledger::Transfer> group;
    ledger::Transfer close;
    close.debit_account_id = held->debit_account_id;
    close.credit_account_id = held->credit_account_id;
    close.pending_id = held->id;
    close.user_data = held->user_data;
    close.code = ledger::transfer_code::download_payment;
    AccountId settled_to = a.uploader_leg_account();
    if (!redirect_now) {
        close.id = settlement_id(pid, "release");
        close.flags = ledger::transfer_flags::post_pending;
        close.amount_msat = held->amount_msat;
        close.memo = "held earnings released";
        group.push_back(close);
    } else {
        settled_to = redirect->claimant;
        if (auto r = m_wallets.ensure_wallet(settled_to); !r) return fail(unavailable(r.error().message));
        close.id = settlement_id(pid, "void");
        close.flags = ledger::transfer_flags::void_pending;
        close.amount_msat = 0;
        close.memo = "held earnings redirected to a rights holder";
        group.push_back(close);
        // A claimant who is the payer gets the reservation back by the void alone.
        if (settled_to != a.payer) {
            group.back().flags |= ledger::transfer_flags::linked;
            ledger::Transfer pay;
            pay.id = settlement_id(pid, "redirect");
            pay.debit_account_id = held->debit_account_id;
            pay.credit_account_id = wallet_id(settled_to);
            pay.amount_msat = held->amount_msat;
            pay.user_data = held->user_data;
            pay.code = ledger::transfer_code::download_payment;
            pay.memo = "held earnings redirected to a rights holder";
            group.push_back(pay);
        }
    }
    auto outcome = m_wallets.ledger().create_transfers(std::move(group));
    if (!outcome) return fail(unavailable(outcome.error().message));
    for (const auto& o : *outcome) {
        // `exists`: settled before (a repeat after a crash); the record below catches up.
        if (!ledger::applied(o.result)) {
            return fail(unavailable("the ledger refused to settle a held payment: " +
                                    std::string(ledger::result_name(o.result))));
        }
    }
    const HoldOutcome how = redirect_now ? HoldOutcome::redirected : HoldOutcome::released;
    if (auto r = m_store.settle_hold(a.payer, a.file_id, a.attempt_no, how, settled_to);
        !r && r.error().code != StoreError::not_found) {
        return fail(unavailable(r.error().message));
    }
    if (redirect_now) {
        ++out.redirected;
        out.redirected_msat += held->amount_msat;
    } else {
        ++out.released;
        out.released_msat += held->amount_msat;
    }
    return {};
}

PayResult<HoldSettlement> Paywall::settle_holds(const std::string& file_id) {
    const auto unavailable = [](std::string message) { return PayFailure{PayError::unavailable, std::move(message)}; };
    const std::unique_lock hold_lock(m_hold_mutex);
    HoldSettlement out;
    if (m_hold_policy && m_hold_policy(file_id)) {
        out.still_held = true;
        return out;
    }
    auto redirect = m_store.redirect_of(file_id);
    if (!redirect) return fail(unavailable(redirect.error().message));
    // One pass in the holds' order, a page at a time: a page starts after the last record of
    // the one before, so records that cannot be settled (pending attempts whose groups the
    // ledger does not hold) never hide the ones behind them. No payment records a new held
    // attempt meanwhile (the exclusive hold lock).
    std::optional<HoldCursor> after;
    for (;;) {
        auto batch = m_store.unsettled_holds(file_id, kSettleBatchMax, after);
        if (!batch) return fail(unavailable(batch.error().message));
        for (const auto& a : *batch) {
            auto held = a;
            if (a.state == AttemptState::pending) {
                auto granted = recover_pending_hold(a);
                if (!granted) return fail(granted.error());
                if (!*granted) continue;  // its group is not in the ledger: nothing is reserved
                held = std::move(**granted);
            }
            if (auto r = settle_one(held, *redirect, out); !r) return fail(r.error());
        }
        if (batch->size() < kSettleBatchMax) break;
        after = HoldCursor{batch->back().created_s, batch->back().payer, batch->back().attempt_no};
    }
    return out;
}

PayResult<std::optional<PaymentAttempt>> Paywall::recover_pending_hold(
    const PaymentAttempt& pending) {
    // Called under the exclusive hold lock: no payment of this process is between recording
    // and settling, so a pending record here was left by a crash (or by another server).
    auto applied = applied_attempt(pending);
    if (!applied) return fail(applied.error());
    // Not in the ledger: left pending, never marked failed, since another server may still be
    // applying it; its payer's retry settles it either way.
    if (!*applied) return std::optional<PaymentAttempt>();
    PaymentAttempt a = std::move(**applied);
    a.state = AttemptState::granted;
    a.expires_s = pending.created_s + m_options.grant_lifetime_s;
    if (auto r = m_store.record_recovered_attempt(a); !r) {
        return fail(PayFailure{PayError::unavailable, r.error().message});
    }
    if (!a.held) return std::optional<PaymentAttempt>();  // applied, but nothing was held
    return std::optional(std::move(a));
}

PayResult<HoldSettlement> Paywall::settle_stale_holds() {
    // Every file, a page at a time in file id order: files still held (or holding only records
    // that cannot be settled) never hide the ones after them, and one file that fails does not
    // stop the others (the first failure is reported once all were tried).
    HoldSettlement total;
    std::optional<PayFailure> first_failure;
    std::string after;
    for (;;) {
        auto files = m_store.files_with_unsettled_holds(kStaleHoldFilesMax, after);
        if (!files) return fail(PayFailure{PayError::unavailable, files.error().message});
        for (const auto& f : *files) {
            auto one = settle_holds(f);
            if (!one) {
                if (!first_failure) first_failure = one.error();
                continue;
            }
            total.released += one->released;
            total.redirected += one->redirected;
            total.released_msat += one->released_msat;
            total.redirected_msat += one->redirected_msat;
            total.still_held = total.still_held || one->still_held;
        }
        if (files->size() < kStaleHoldFilesMax) break;
        after = files->back();
    }
    if (first_failure) return fail(std::move(*first_failure));
    return total;
}

Result<crypto::L402Grant, crypto::MacaroonError> Paywall::check_credential(std::string_view authorization,
                                                                           std::string_view file_id) const {
    auto credential = crypto::parse_l402_authorization(authorization);
    if (!credential) return fail(credential.error());
    auto grant = crypto::verify_l402(*credential, m_macaroon_key, crypto::GrantCheck{file_id, m_options.clock_s()});
    crypto::secure_wipe(credential->preimage);
    return grant;
}

StoreResult<bool> Paywall::has_live_grant(AccountId payer, const std::string& file_id) {
    auto latest = m_store.latest_attempt(payer, file_id);
    if (!latest) return fail(latest.error());
    return *latest && (*latest)->state == AttemptState::granted && (*latest)->expires_s > m_options.clock_s();
}

StoreResult<std::string> Paywall::referral_code(AccountId account) {
    for (int tries = 0; tries < 4; ++tries) {
        auto existing = m_store.referral_code(account);
        if (!existing) return fail(existing.error());
        if (*existing) return **existing;
        std::array<std::uint8_t, kReferralCodeBytes> raw{};
        crypto::random_bytes(raw);
        const std::string code = base64url_encode(raw);
        auto r = m_store.set_referral_code(account, code);
        if (r) return code;
        if (r.error().code != StoreError::exists) return fail(r.error());
        // A concurrent request set one (or, astronomically unlikely, the code was taken).
    }
    return fail(StoreFailure{StoreError::io, "could not create a referral code"});
}

}  // namespace satload::payments
