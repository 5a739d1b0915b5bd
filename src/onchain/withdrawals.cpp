// The withdrawal engine: refusals first (nothing reserved), then coins held and the ledger
// reservation, then the signed transaction to the node; the watcher's rounds finish it.
#include "onchain/withdrawals.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "chain/address.h"
#include "chain/sighash.h"
#include "core/check.h"
#include "crypto/primitives.h"
#include "ledger/accounts.h"
#include "payments/wallet_service.h"

namespace satload::onchain {
namespace {

WithdrawalFailure wfail(WithdrawalError code, std::string message) {
    return WithdrawalFailure{code, std::move(message)};
}

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ledger::Id128 derived_id(std::string_view kind, const std::string& withdrawal_id) {
    crypto::Sha256 h;
    const std::string text = "satload/v1 " + std::string(kind) + " " + withdrawal_id;
    h.update(as_bytes(text));
    const auto d = h.finish();
    ledger::Id128 id = ledger::id_from_bytes(ByteSpan(d.data(), ledger::kIdBytes));
    if (id.high == 0) id.high = 1;
    return id;
}

// Weights of the parts of a P2WPKH spend (BIP141: non-witness bytes weigh 4, witness bytes 1).
constexpr std::size_t kTxOverheadWeight = 4 * (4 + 4 + 1 + 1) + 2;  // version, lock time, counts; marker, flag
constexpr std::size_t kInputWeight = 4 * (32 + 4 + 1 + 4) + (1 + 1 + chain::kMaxDerSignatureBytes + 1 + 1 +
                                                               chain::kCompressedPublicKeyBytes);
constexpr std::size_t kP2wpkhScriptBytes = 22;

// Where a withdrawal's money comes from: the user's wallet, or for the operator the
// platform's revenue.
ledger::Id128 source_account(AccountId account) {
    if (account == kPlatformAccount) return ledger::kPlatformRevenueId;
    return ledger::user_wallet_id(payments::wallet_user_id(account));
}

// The pending transfer that reserves a withdrawal's amount + fee in its source account; its id
// is the withdrawal's. It may never overdraw the source: a user's wallet refuses that by its
// own flag, platform revenue (which has none) by the transfer's, so two operator withdrawals on
// two servers cannot both pass the balance check and take the revenue below zero.
ledger::Transfer reservation(ledger::Id128 id, const WithdrawalRecord& w) {
    ledger::Transfer t;
    t.id = id;
    t.debit_account_id = source_account(w.account);
    t.credit_account_id = ledger::kPendingWithdrawalsId;
    t.amount_msat = (w.amount_sat + w.fee_sat) * kMsatPerSat;
    t.code = ledger::transfer_code::withdrawal;
    t.flags =
        ledger::transfer_flags::pending | ledger::transfer_flags::debits_must_not_exceed_credits;
    t.memo = "withdrawal to " + w.address;
    return t;
}

// The transfer that voids a withdrawal's reservation (its amount comes back to the source).
ledger::Transfer reservation_void(const WithdrawalRecord& w, ledger::Id128 reservation_id) {
    ledger::Transfer v;
    v.id = derived_id("withdrawal-void", w.id);
    v.pending_id = reservation_id;
    v.debit_account_id = source_account(w.account);
    v.credit_account_id = ledger::kPendingWithdrawalsId;
    v.code = ledger::transfer_code::withdrawal;
    v.flags = ledger::transfer_flags::void_pending;
    return v;
}

}  // namespace

std::string_view withdrawal_error_name(WithdrawalError e) {
    switch (e) {
        case WithdrawalError::bad_amount: return "bad_amount";
        case WithdrawalError::bad_address: return "bad_address";
        case WithdrawalError::wrong_network: return "wrong_network";
        case WithdrawalError::below_dust: return "below_dust";
        case WithdrawalError::frozen: return "frozen";
        case WithdrawalError::insufficient_funds: return "insufficient_funds";
        case WithdrawalError::no_fee_rate: return "no_fee_rate";
        case WithdrawalError::hot_wallet_short: return "hot_wallet_short";
        case WithdrawalError::not_found: return "not_found";
        case WithdrawalError::not_awaiting: return "not_awaiting";
        case WithdrawalError::key_reused:
            return "key_reused";
        case WithdrawalError::node: return "node";
        case WithdrawalError::store: return "store";
        case WithdrawalError::ledger: return "ledger";
    }
    return "unknown";
}

bool is_request_key(std::string_view key) {
    if (key.empty() || key.size() > kRequestKeyCharsMax) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

std::size_t estimate_vsize(std::size_t inputs, const std::vector<std::size_t>& output_script_bytes) {
    std::size_t weight = kTxOverheadWeight + inputs * kInputWeight;
    for (const std::size_t bytes : output_script_bytes) weight += 4 * (8 + 1 + bytes);
    return (weight + chain::kWitnessScaleFactor - 1) / chain::kWitnessScaleFactor;
}

std::int64_t fee_for(std::size_t vsize, double fee_rate_sat_per_vb) {
    return static_cast<std::int64_t>(std::ceil(static_cast<double>(vsize) * fee_rate_sat_per_vb));
}

double clamp_fee_rate(double sat_per_vb) {
    if (!std::isfinite(sat_per_vb)) return kMinFeeRateSatPerVb;
    return std::clamp(sat_per_vb, kMinFeeRateSatPerVb, kMaxFeeRateSatPerVb);
}

std::optional<CoinChoice> select_coins(std::vector<CoinRecord> coins, std::int64_t amount_sat,
                                       std::size_t payee_script_bytes, double fee_rate_sat_per_vb) {
    std::sort(coins.begin(), coins.end(), [](const CoinRecord& a, const CoinRecord& b) {
        return a.value_sat > b.value_sat;
    });
    CoinChoice choice;
    std::int64_t sum = 0;
    for (const auto& c : coins) {
        if (choice.coins.size() == kMaxWithdrawalInputs) break;
        choice.coins.push_back(c);
        sum += c.value_sat;
        const std::size_t n = choice.coins.size();
        const std::int64_t fee_with_change = fee_for(estimate_vsize(n, {payee_script_bytes, kP2wpkhScriptBytes}),
                                                     fee_rate_sat_per_vb);
        const std::int64_t fee_without = fee_for(estimate_vsize(n, {payee_script_bytes}), fee_rate_sat_per_vb);
        if (sum - amount_sat - fee_with_change >= kDustSat) {
            choice.fee_sat = fee_with_change;
            choice.change_sat = sum - amount_sat - fee_with_change;
            return choice;
        }
        if (sum - amount_sat >= fee_without) {
            // Change would be dust: it goes to the fee instead.
            choice.fee_sat = sum - amount_sat;
            choice.change_sat = 0;
            return choice;
        }
    }
    return std::nullopt;
}

WithdrawalEngine::WithdrawalEngine(OnchainWallet& wallet, ChainStore& store, NodeRpc& node, ledger::Ledger& ledger,
                                   WithdrawalOptions options)
    : m_wallet(wallet), m_store(store), m_node(node), m_ledger(ledger), m_options(options) {}

WithdrawalResult<WithdrawalView> WithdrawalEngine::request(AccountId account,
                                                           const std::string& address,
                                                           std::int64_t amount_msat,
                                                           const std::string& request_key) {
    // Refusals first: nothing is held or reserved for any of them.
    if (amount_msat <= 0 || amount_msat % kMsatPerSat != 0) {
        return fail(wfail(WithdrawalError::bad_amount, "the amount must be a positive whole number of sats"));
    }
    const std::int64_t amount_sat = amount_msat / kMsatPerSat;
    auto program = chain::decode_segwit_address(m_wallet.network(), address);
    if (!program) {
        if (program.error() == chain::AddressError::wrong_network) {
            return fail(wfail(WithdrawalError::wrong_network,
                              fmt::format("{} is an address of another network; this server runs on {}", address,
                                          m_wallet.network().name)));
        }
        return fail(wfail(WithdrawalError::bad_address,
                          "not a segwit bitcoin address: " + std::string(chain::address_error_message(program.error()))));
    }
    if (amount_sat < kDustSat) {
        return fail(wfail(WithdrawalError::below_dust, fmt::format("the amount is below the dust limit of {} sat", kDustSat)));
    }
    SATLOAD_ASSERT(request_key.empty() || is_request_key(request_key));
    const std::lock_guard lock(m_mutex);
    // A retry of a request that was answered (or cut off) before: that withdrawal, not a second.
    if (!request_key.empty()) {
        auto earlier = m_store.withdrawal_by_key(account, request_key);
        if (!earlier) return fail(wfail(WithdrawalError::store, earlier.error().message));
        if (*earlier) return replay(**earlier, address, amount_sat);
    }
    if (m_is_frozen && m_is_frozen(account)) {
        return fail(wfail(WithdrawalError::frozen, "this wallet is frozen: it cannot withdraw"));
    }
    const Bytes payee_script = chain::witness_script_pubkey(*program);

    auto estimate = m_node.estimate_fee_sat_per_vb(kFeeTargetBlocks);
    if (!estimate) return fail(wfail(WithdrawalError::node, "the bitcoin node is unreachable: " + estimate.error().message));
    double rate = 0;
    if (*estimate) {
        rate = clamp_fee_rate(**estimate);
    } else if (m_options.fallback_fee_rate_sat_per_vb > 0) {
        rate = clamp_fee_rate(m_options.fallback_fee_rate_sat_per_vb);
    } else {
        return fail(wfail(WithdrawalError::no_fee_rate, "the node has no fee estimate and no fallback fee rate is set"));
    }

    // Coins the chain has confirmed: deposits at N confirmations (they are credited), our change at 1.
    auto coins = m_store.unspent_coins();
    if (!coins) return fail(wfail(WithdrawalError::store, coins.error().message));
    const std::int64_t tip = m_wallet.tip_height();
    std::vector<CoinRecord> eligible;
    for (const auto& c : *coins) {
        if (c.reserved_by || c.height < 0) continue;
        const std::int64_t confirmations = tip - c.height + 1;
        const std::int64_t needed =
            c.branch == Branch::change ? 1 : static_cast<std::int64_t>(m_wallet.options().confirmations);
        if (confirmations >= needed) eligible.push_back(c);
    }
    auto choice = select_coins(std::move(eligible), amount_sat, payee_script.size(), rate);
    const std::int64_t fee_sat = choice ? choice->fee_sat : fee_for(estimate_vsize(1, {payee_script.size()}), rate);
    const std::int64_t total_msat = (amount_sat + fee_sat) * kMsatPerSat;
    const auto wallet_account = m_ledger.lookup_account(source_account(account));
    const std::int64_t available = wallet_account ? wallet_account->available_msat() : 0;
    if (available < total_msat) {
        return fail(wfail(WithdrawalError::insufficient_funds,
                          fmt::format("the wallet holds {} msat available; this withdrawal needs {} msat ({} sat plus "
                                      "a network fee of {} sat)",
                                      available, total_msat, amount_sat, fee_sat)));
    }
    if (!choice) {
        return fail(wfail(WithdrawalError::hot_wallet_short,
                          "the hot wallet's confirmed coins cannot fund this withdrawal now; try again later"));
    }

    auto withdrawn = m_store.withdrawn_since(now_s() - kWithdrawalDaySeconds);
    if (!withdrawn) return fail(wfail(WithdrawalError::store, withdrawn.error().message));
    const bool needs_approval =
        amount_sat > m_options.max_withdrawal_sat || *withdrawn + amount_sat > m_options.daily_withdrawal_sat;

    // Build and sign: every input signals RBF; change (if any) to a fresh internal address.
    std::vector<chain::TxOut> outputs{chain::TxOut{amount_sat, payee_script}};
    if (choice->change_sat > 0) {
        auto change = m_wallet.new_change_address();
        if (!change) return fail(wfail(WithdrawalError::store, change.error().message));
        outputs.push_back(chain::TxOut{choice->change_sat, change->script});
    }
    std::vector<chain::P2wpkhCoin> signing;
    std::vector<chain::OutPoint> held;
    for (const auto& c : choice->coins) {
        signing.push_back(chain::P2wpkhCoin{c.outpoint, c.value_sat, m_wallet.private_key_at(c.branch, c.index),
                                            chain::kSequenceRbf});
        held.push_back(c.outpoint);
    }
    auto tx = chain::sign_p2wpkh_spend(signing, outputs, 2, 0);
    if (!tx) return fail(wfail(WithdrawalError::store, "signing failed: " + std::string(chain::sign_error_name(tx.error()))));

    WithdrawalRecord w;
    std::array<std::uint8_t, 16> random{};
    crypto::random_bytes(random);
    const auto r = ledger::id_from_bytes(random);
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const ledger::Id128 id = ledger::time_ordered_id(now_ns, r.high, r.low);
    w.id = ledger::id_hex(id);
    w.account = account;
    w.address = address;
    w.amount_sat = amount_sat;
    w.fee_sat = choice->fee_sat;
    w.status = "reserving";
    w.txid = chain::txid(*tx);
    w.raw_tx = chain::serialize_transaction(*tx);
    w.created_s = now_s();
    w.request_key = request_key;
    if (auto s = m_store.insert_withdrawal(w, held); !s) {
        if (s.error().code == store::StoreError::exists && !request_key.empty()) {
            // Another instance took this key a moment ago.
            auto earlier = m_store.withdrawal_by_key(account, request_key);
            if (earlier && *earlier) return replay(**earlier, address, amount_sat);
        }
        return fail(wfail(WithdrawalError::store, s.error().message));
    }
    auto outcome = m_ledger.create_transfers({reservation(id, w)});
    if (!outcome) {
        // The ledger may have applied the reservation before it failed: the row stays
        // `reserving` and the watcher's check settles it from what the ledger holds.
        return fail(wfail(
            WithdrawalError::ledger,
            fmt::format("the ledger did not confirm the reservation of withdrawal {} ({}); it is "
                        "settled within {} s: held for the operator's approval if the money was "
                        "reserved, dropped if not",
                        w.id, outcome.error().message, m_options.reserving_grace_s)));
    }
    if (!ledger::applied(outcome->at(0).result)) {
        (void)m_store.delete_withdrawal(w.id);
        return fail(wfail(WithdrawalError::insufficient_funds,
                          "the wallet cannot cover this withdrawal: " +
                              std::string(ledger::result_name(outcome->at(0).result))));
    }
    if (needs_approval) {
        auto moved = m_store.set_withdrawal_status(w.id, "reserving", "awaiting_approval");
        if (!moved) return fail(wfail(WithdrawalError::store, moved.error().message));
        if (!*moved) return view_after_lost_move(w);
        w.status = "awaiting_approval";
        m_wallet.alert(fmt::format("withdrawal {} of {} sat to {} waits for `satload admin approve {}` (above the "
                                   "hot-wallet limits)",
                                   w.id, amount_sat, address, w.id));
        return view(w);
    }
    return broadcast(w);
}

WithdrawalResult<WithdrawalView> WithdrawalEngine::replay(const WithdrawalRecord& earlier,
                                                          const std::string& address,
                                                          std::int64_t amount_sat) {
    if (earlier.address != address || earlier.amount_sat != amount_sat) {
        return fail(wfail(
            WithdrawalError::key_reused,
            fmt::format("this Idempotency-Key was used for withdrawal {} of {} sat to {}: a new "
                        "withdrawal needs a new key",
                        earlier.id, earlier.amount_sat, earlier.address)));
    }
    WithdrawalView v = view(earlier);
    v.replayed = true;
    return v;
}

WithdrawalResult<WithdrawalView> WithdrawalEngine::view_after_lost_move(const WithdrawalRecord& w) {
    auto now = m_store.withdrawal(w.id);
    if (!now) return fail(wfail(WithdrawalError::store, now.error().message));
    if (*now) return view(**now);
    // Only a reserving row is ever dropped: the watcher's check found no reservation while
    // this request was still making it (it took longer than the grace period), and released
    // the coins. The reservation this request made is voided so no money stays held for it.
    const auto id = ledger::parse_id_hex(w.id);
    SATLOAD_ASSERT(id.has_value());
    auto outcome = m_ledger.create_transfers({reservation_void(w, *id)});
    if (!outcome || !ledger::applied(outcome->at(0).result)) {
        m_wallet.alert("ALERT withdrawal " + w.id +
                       ": dropped while being set up, and its reservation could not "
                       "be voided");
    }
    return fail(wfail(WithdrawalError::ledger,
                      "withdrawal " + w.id +
                          " was dropped while its reservation was being made (it took "
                          "too long); nothing is sent and the reservation is released"));
}

WithdrawalResult<WithdrawalView> WithdrawalEngine::broadcast(const WithdrawalRecord& record) {
    WithdrawalRecord w = record;
    // Only the one that moves it to broadcast sends it.
    auto moved = m_store.set_withdrawal_status(w.id, w.status, "broadcast");
    if (!moved) return fail(wfail(WithdrawalError::store, moved.error().message));
    if (!*moved) return view_after_lost_move(w);
    w.status = "broadcast";
    // The answer proves nothing (bcoin answers the txid of a transaction it rejected): the
    // mempool does. Either way the withdrawal stays reserved and the watcher rebroadcasts.
    auto sent = m_node.send_raw_transaction(w.raw_tx);
    if (!sent) {
        m_wallet.alert("withdrawal " + w.id + ": broadcast failed (" + sent.error().message + "); will retry");
        return view(w);
    }
    const auto deadline = std::chrono::steady_clock::now() + m_options.mempool_wait;
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
        auto in = m_node.in_mempool(w.txid);
        seen = in && *in;
        if (!seen) std::this_thread::sleep_for(kMempoolPoll);
    }
    if (!seen) m_wallet.alert("withdrawal " + w.id + ": the node did not take the transaction into its mempool; will rebroadcast");
    return view(w);
}

WithdrawalResult<WithdrawalRecord> WithdrawalEngine::awaiting(const std::string& id) {
    auto w = m_store.withdrawal(id);
    if (!w) return fail(wfail(WithdrawalError::store, w.error().message));
    if (!*w) return fail(wfail(WithdrawalError::not_found, "no withdrawal " + id));
    if ((*w)->status != "awaiting_approval") {
        return fail(wfail(WithdrawalError::not_awaiting,
                          "withdrawal " + id + " is " + (*w)->status + ", not awaiting approval"));
    }
    return std::move(**w);
}

WithdrawalResult<WithdrawalView> WithdrawalEngine::approve(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    auto w = awaiting(id);
    if (!w) return fail(w.error());
    return broadcast(*w);
}

WithdrawalResult<WithdrawalView> WithdrawalEngine::reject(const std::string& id) {
    const std::lock_guard lock(m_mutex);
    auto w = awaiting(id);
    if (!w) return fail(w.error());
    const auto reservation_id = ledger::parse_id_hex(id);
    if (!reservation_id)
        return fail(wfail(WithdrawalError::store, "withdrawal " + id + " has a malformed id"));
    // Claimed first, so no approval (here or on another instance) can send it meanwhile.
    auto moved = m_store.set_withdrawal_status(id, "awaiting_approval", "voided");
    if (!moved) return fail(wfail(WithdrawalError::store, moved.error().message));
    if (!*moved) {
        return fail(wfail(WithdrawalError::not_awaiting,
                          "withdrawal " + id + " was approved or rejected meanwhile"));
    }
    if (auto released = release_rejected(*w, *reservation_id); !released) {
        if (released.error().code != WithdrawalError::ledger) return fail(released.error());
        m_wallet.alert("ALERT withdrawal " + id +
                       ": rejected, but its reservation could not be voided (" +
                       released.error().message + "); the chain watcher's check tries again");
        return fail(wfail(WithdrawalError::ledger, "withdrawal " + id +
                                                       " is rejected, but the ledger did not void "
                                                       "its reservation yet; it is tried again"));
    }
    w->status = "voided";
    return view(*w);
}

std::optional<std::int64_t> WithdrawalEngine::confirmed_height(const WithdrawalRecord& w, bool& conflicted_deep) {
    conflicted_deep = false;
    auto coins = m_store.coins_of_withdrawal(w.id);
    if (!coins) return std::nullopt;
    const std::int64_t tip = m_wallet.tip_height();
    std::optional<std::int64_t> height;
    for (const auto& c : *coins) {
        if (!c.spent_by || !c.spent_height) continue;
        if (*c.spent_by == w.txid) {
            height = *c.spent_height;
        } else if (tip - *c.spent_height + 1 >= static_cast<std::int64_t>(m_wallet.options().confirmations)) {
            conflicted_deep = true;
        }
    }
    return height;
}

WithdrawalView WithdrawalEngine::view(const WithdrawalRecord& w) {
    WithdrawalView v;
    v.id = w.id;
    v.status = w.status;
    if (w.status != "awaiting_approval" && w.status != "reserving") v.txid = chain::hash_to_display_hex(w.txid);
    v.address = w.address;
    v.amount_msat = w.amount_sat * kMsatPerSat;
    v.fee_msat = w.fee_sat * kMsatPerSat;
    bool conflicted = false;
    if (const auto h = confirmed_height(w, conflicted)) v.confirmations = m_wallet.tip_height() - *h + 1;
    return v;
}

WithdrawalResult<std::vector<WithdrawalView>> WithdrawalEngine::list(AccountId account) {
    auto rows = m_store.withdrawals_of(account);
    if (!rows) return fail(wfail(WithdrawalError::store, rows.error().message));
    std::vector<WithdrawalView> out;
    for (const auto& w : *rows) out.push_back(view(w));
    return out;
}

void WithdrawalEngine::check(std::int64_t tip_height) {
    const std::lock_guard lock(m_mutex);
    if (auto stale = m_store.stale_reserving(m_options.reserving_grace_s, now_s())) {
        for (const auto& w : *stale) settle_reserving(w);
    }
    if (auto voided = m_store.voided_holding_coins(kVoidRetriesPerCheck)) {
        for (const auto& w : *voided) finish_rejection(w);
    }
    auto rows = m_store.withdrawals_with_status("broadcast");
    if (!rows) return;
    for (const auto& w : *rows) {
        auto pending_id = ledger::parse_id_hex(w.id);
        if (!pending_id) continue;
        bool conflicted = false;
        const auto height = confirmed_height(w, conflicted);
        const std::int64_t total_msat = (w.amount_sat + w.fee_sat) * kMsatPerSat;
        if (height && tip_height - *height + 1 >= static_cast<std::int64_t>(m_wallet.options().confirmations)) {
            // Post the reservation with the fee actually paid, then move it out of the hot wallet.
            ledger::Transfer post;
            post.id = derived_id("withdrawal-post", w.id);
            post.pending_id = *pending_id;
            post.debit_account_id = source_account(w.account);
            post.credit_account_id = ledger::kPendingWithdrawalsId;
            post.amount_msat = total_msat;
            post.code = ledger::transfer_code::withdrawal;
            post.flags = ledger::transfer_flags::post_pending | ledger::transfer_flags::linked;
            ledger::Transfer out;
            out.id = derived_id("withdrawal-out", w.id);
            out.debit_account_id = ledger::kPendingWithdrawalsId;
            out.credit_account_id = ledger::kOnchainAssetsId;
            out.amount_msat = w.amount_sat * kMsatPerSat;
            out.code = ledger::transfer_code::withdrawal;
            out.flags = ledger::transfer_flags::linked;
            out.memo = "withdrawal " + chain::hash_to_display_hex(w.txid);
            ledger::Transfer fee;
            fee.id = derived_id("withdrawal-fee", w.id);
            fee.debit_account_id = ledger::kPendingWithdrawalsId;
            fee.credit_account_id = ledger::kOnchainAssetsId;
            fee.amount_msat = w.fee_sat * kMsatPerSat;
            fee.code = ledger::transfer_code::withdrawal_fee;
            fee.memo = "network fee of " + chain::hash_to_display_hex(w.txid);
            auto outcome = m_ledger.create_transfers({post, out, fee});
            bool ok = outcome.has_value();
            if (ok) {
                for (const auto& o : *outcome) ok = ok && ledger::applied(o.result);
            }
            if (ok) {
                (void)m_store.set_withdrawal_status(w.id, "broadcast", "confirmed");
            } else {
                m_wallet.alert("ALERT withdrawal " + w.id + ": the ledger refused posting it");
            }
            continue;
        }
        if (!height && conflicted) {
            // Another spend of its coins is confirmed: this transaction can never confirm.
            auto outcome = m_ledger.create_transfers({reservation_void(w, *pending_id)});
            if (outcome && ledger::applied(outcome->at(0).result)) {
                (void)m_store.set_withdrawal_status(w.id, "broadcast", "voided");
                m_wallet.alert("ALERT withdrawal " + w.id + " voided: a conflicting spend of its coins confirmed");
            }
            continue;
        }
        if (!height) {
            auto in = m_node.in_mempool(w.txid);
            if (in && !*in) {
                // Dropped (or never taken): send it again; never voided for that.
                (void)m_node.send_raw_transaction(w.raw_tx);
            }
        }
    }
}

WithdrawalResult<ledger::TransferResult> WithdrawalEngine::release_rejected(
    const WithdrawalRecord& w, ledger::Id128 reservation_id) {
    auto outcome = m_ledger.create_transfers({reservation_void(w, reservation_id)});
    if (!outcome) return fail(wfail(WithdrawalError::ledger, outcome.error().message));
    const ledger::TransferResult result = outcome->at(0).result;
    if (!ledger::applied(result))
        return fail(wfail(WithdrawalError::ledger, std::string(ledger::result_name(result))));
    if (auto r = m_store.release_coins(w.id); !r)
        return fail(wfail(WithdrawalError::store, r.error().message));
    return result;
}

void WithdrawalEngine::finish_rejection(const WithdrawalRecord& w) {
    const auto id = ledger::parse_id_hex(w.id);
    if (!id) return;
    const auto released = release_rejected(w, *id);  // on failure the next check tries again
    if (released && *released == ledger::TransferResult::ok) {
        m_wallet.alert(
            "withdrawal " + w.id + ": its rejection's void went through on a later try; " +
            std::to_string(w.amount_sat + w.fee_sat) + " sat are back and its coins are free");
    }
}

void WithdrawalEngine::settle_reserving(const WithdrawalRecord& w) {
    // A crash (or a ledger error) between holding the coins and the reservation's answer; the
    // caller was told nothing, or that the withdrawal is settled here. Looked up, not
    // submitted again: a reservation the ledger never applied is not made now.
    const auto id = ledger::parse_id_hex(w.id);
    if (!id) return;
    auto found = m_ledger.lookup_transfers({*id});
    if (!found) return;  // the next check tries again
    const bool reserved = std::any_of(found->begin(), found->end(),
                                      [](const ledger::KnownTransfer& k) { return !k.failure; });
    if (!reserved) {
        (void)m_store.delete_withdrawal(w.id);  // only if still reserving
        return;
    }
    auto moved = m_store.set_withdrawal_status(w.id, "reserving", "awaiting_approval");
    if (moved && *moved) {
        m_wallet.alert(fmt::format(
            "withdrawal {} of {} sat to {} was reserved but not sent (a crash or a ledger "
            "error); it waits for `satload admin approve {}`",
            w.id, w.amount_sat, w.address, w.id));
    }
}

}  // namespace satload::onchain
