// The chain watcher's round: follow the node block by block (raw blocks parsed here), walk
// back over reorgs, credit deposits at N confirmations and reverse credited ones a reorg took.
// Every ledger transfer has a deterministic id and the chain_* record is updated after the
// ledger answered, so a crash between the two repeats the same transfer (applied once); a
// reorg before that repeat asks the ledger which credits it applied (record_applied_credits).
#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "chain/address.h"
#include "chain/block.h"
#include "core/money.h"
#include "ledger/accounts.h"
#include "onchain/wallet.h"
#include "payments/wallet_service.h"

namespace satload::onchain {
namespace {

OnchainFailure store_failure(const store::StoreFailure& f) { return OnchainFailure{OnchainError::store, f.message}; }
OnchainFailure node_failure(const RpcFailure& f) {
    return OnchainFailure{OnchainError::node, "the node: " + f.message};
}

std::string outpoint_text(const chain::OutPoint& o) {
    return chain::hash_to_display_hex(o.txid) + ":" + std::to_string(o.vout);
}

}  // namespace

OnchainResult<SyncReport> OnchainWallet::sync_once() {
    const std::lock_guard lock(m_sync_mutex);
    if (m_halted.load()) {
        return fail(OnchainFailure{OnchainError::halted, "the chain watcher is halted after a reorg deeper than "
                                                         "the safety window; an operator must act"});
    }
    SyncReport report;
    auto count = m_node.block_count();
    if (!count) return fail(node_failure(count.error()));
    report.node_height = *count;
    m_node_height.store(*count);

    auto tip = m_store.tip();
    if (!tip) return fail(store_failure(tip.error()));
    // A new wallet starts a safety window below the node's tip, so a deposit to an address
    // issued while the node was away (and mined before this first round) is still found.
    std::int64_t next = std::max<std::int64_t>(0, *count - m_options.safety_window_blocks);
    if (*tip) {
        // The highest height where our record and the node agree.
        std::int64_t h = std::min((*tip)->height, *count);
        std::int64_t fork = -1;
        for (; h >= 0 && (*tip)->height - h <= m_options.safety_window_blocks; --h) {
            auto ours = m_store.block_at(h);
            if (!ours) return fail(store_failure(ours.error()));
            if (!*ours) {
                // Below the first block we followed: nothing of ours is older.
                fork = h;
                break;
            }
            auto theirs = m_node.block_hash(h);
            if (!theirs) return fail(node_failure(theirs.error()));
            if (*theirs == (*ours)->hash) {
                fork = h;
                break;
            }
        }
        if (fork < 0 || (*tip)->height - fork > m_options.safety_window_blocks) {
            m_halted.store(true);
            alert(fmt::format("ALERT chain watcher HALTED: the node's chain diverges from ours more than {} blocks "
                              "below our tip at height {}. Nothing is credited or reversed until an operator "
                              "investigates (the node's chain, then restart satload).",
                              m_options.safety_window_blocks, (*tip)->height));
            return fail(OnchainFailure{OnchainError::halted, "reorg deeper than the safety window"});
        }
        if (fork < (*tip)->height) {
            if (auto r = disconnect_to(fork, (*tip)->height, report); !r) return fail(r.error());
        }
        next = fork + 1;
    }
    m_tip_height.store(next - 1);
    const std::int64_t last = std::min(*count, next + kMaxBlocksPerSync - 1);
    for (std::int64_t height = next; height <= last; ++height) {
        auto parent = height > 0 ? m_store.block_at(height - 1) : store::StoreResult<std::optional<BlockRecord>>();
        if (!parent) return fail(store_failure(parent.error()));
        auto connected = connect_height(height, *parent);
        if (!connected) return fail(connected.error());
        if (!*connected) break;  // the node reorganized meanwhile: the next round walks back
        ++report.connected;
        m_tip_height.store(height);
    }
    auto reversed = book_reversals();
    if (!reversed) return fail(reversed.error());
    report.reversed = *reversed;
    auto credited = credit_confirmed(m_tip_height.load());
    if (!credited) return fail(credited.error());
    report.credited = *credited;
    if (m_after_sync) m_after_sync(m_tip_height.load());
    return report;
}

OnchainResult<void> OnchainWallet::disconnect_to(std::int64_t fork_height, std::int64_t tip_height,
                                                 SyncReport& report) {
    alert(fmt::format("chain watcher: reorg: disconnecting {} block(s) above height {}", tip_height - fork_height,
                      fork_height));
    if (auto r = record_applied_credits(fork_height); !r) return fail(r.error());
    for (std::int64_t h = tip_height; h > fork_height; --h) {
        auto effects = m_store.disconnect_block(h);
        if (!effects) return fail(store_failure(effects.error()));
        ++report.disconnected;
        m_tip_height.store(h - 1);
        for (const auto& d : effects->orphaned) {
            alert(fmt::format("chain watcher: deposit {} ({} sat) left the chain before it was credited",
                              outpoint_text(d.outpoint), d.amount_sat));
        }
        for (const auto& d : effects->reversing) {
            alert(fmt::format("ALERT chain watcher: CREDITED deposit {} ({} sat, account {}) was taken back by a "
                              "reorg at height {}: booking a reversal",
                              outpoint_text(d.outpoint), d.amount_sat, d.account, h));
        }
    }
    return {};
}

OnchainResult<void> OnchainWallet::record_applied_credits(std::int64_t fork_height) {
    auto pending = m_store.deposits_with_status(DepositStatus::pending);
    if (!pending) return fail(store_failure(pending.error()));
    std::vector<const DepositRecord*> leaving;  // in a block the reorg takes
    std::vector<ledger::Id128> ids;
    for (const auto& d : *pending) {
        if (!d.height || *d.height <= fork_height) continue;
        leaving.push_back(&d);
        ids.push_back(deposit_transfer_id("deposit", d.outpoint, d.credits));
    }
    if (ids.empty()) return {};
    auto known = m_ledger.lookup_transfers(ids);
    if (!known) return fail(OnchainFailure{OnchainError::ledger, known.error().message});
    for (std::size_t i = 0; i < leaving.size(); ++i) {
        const DepositRecord& d = *leaving[i];
        const auto applied = std::find_if(
            known->begin(), known->end(),
            [&](const ledger::KnownTransfer& k) { return k.transfer.id == ids[i] && !k.failure; });
        if (applied == known->end()) continue;  // never credited: the reorg orphans it
        // The same id with other fields is not this deposit's credit: stop rather than guess.
        if (applied->transfer.amount_msat != d.amount_sat * kMsatPerSat ||
            applied->transfer.credit_account_id !=
                ledger::user_wallet_id(payments::wallet_user_id(d.account))) {
            return fail(OnchainFailure{OnchainError::ledger, "the ledger's credit of deposit " +
                                                                 outpoint_text(d.outpoint) +
                                                                 " does not match the deposit"});
        }
        if (auto m = m_store.mark_credited(d.outpoint); !m) return fail(store_failure(m.error()));
        alert(fmt::format(
            "chain watcher: deposit {} was credited but not recorded; recorded before the reorg "
            "takes it back",
            outpoint_text(d.outpoint)));
    }
    return {};
}

OnchainResult<bool> OnchainWallet::connect_height(std::int64_t height, const std::optional<BlockRecord>& parent) {
    auto hash = m_node.block_hash(height);
    if (!hash) return fail(node_failure(hash.error()));
    auto raw = m_node.raw_block(*hash);
    if (!raw) return fail(node_failure(raw.error()));
    auto block = chain::parse_block(*raw);
    if (!block) {
        return fail(OnchainFailure{OnchainError::bad_block, fmt::format("block {} at height {} does not parse: {}",
                                                                        chain::hash_to_display_hex(*hash), height,
                                                                        chain::parse_error_name(block.error()))});
    }
    if (chain::block_hash(block->header) != *hash) {
        // The node's tip moved between the two calls, or it sent another block.
        return false;
    }
    if (chain::merkle_root(block->transactions) != block->header.merkle_root) {
        return fail(OnchainFailure{OnchainError::bad_block,
                                   fmt::format("block {}: the transactions do not match the merkle root",
                                               chain::hash_to_display_hex(*hash))});
    }
    if (parent && parent->hash != block->header.previous_block) return false;

    BlockEffects effects;
    effects.block = BlockRecord{height, *hash, block->header.previous_block};
    for (const auto& tx : block->transactions) {
        const chain::Hash256 id = chain::txid(tx);
        for (const auto& in : tx.inputs) {
            // Cheap to ask: spends only matter for coins we hold, and the store ignores others.
            effects.spends.push_back(BlockEffects::Spend{in.prevout, id});
        }
        for (std::size_t i = 0; i < tx.outputs.size(); ++i) {
            const auto& out = tx.outputs[i];
            if (out.value_sat < m_options.min_deposit_sat) continue;  // dust: neither credited nor spent
            if (!chain::witness_program_of(out.script_pubkey)) continue;
            auto address = m_store.address_by_script(out.script_pubkey);
            if (!address) return fail(store_failure(address.error()));
            if (!*address) continue;
            BlockEffects::Output o;
            o.outpoint = chain::OutPoint{id, static_cast<std::uint32_t>(i)};
            o.value_sat = out.value_sat;
            o.address = **address;
            o.deposit = (*address)->branch == Branch::receive && (*address)->account.has_value();
            effects.outputs.push_back(std::move(o));
        }
    }
    if (auto r = m_store.connect_block(effects); !r) return fail(store_failure(r.error()));
    return true;
}

OnchainResult<void> OnchainWallet::ensure_account(const ledger::Account& account) {
    if (m_ledger.lookup_account(account.id)) return {};
    auto outcome = m_ledger.create_accounts({account});
    if (!outcome) return fail(OnchainFailure{OnchainError::ledger, outcome.error().message});
    const auto r = outcome->at(0).result;
    if (r != ledger::CreateAccountResult::ok && r != ledger::CreateAccountResult::exists) {
        return fail(OnchainFailure{OnchainError::ledger,
                                   "account creation refused: " + std::string(ledger::result_name(r))});
    }
    return {};
}

OnchainResult<std::int64_t> OnchainWallet::credit_confirmed(std::int64_t tip_height) {
    auto pending = m_store.deposits_with_status(DepositStatus::pending);
    if (!pending) return fail(store_failure(pending.error()));
    std::int64_t credited = 0;
    for (const auto& d : *pending) {
        if (!d.height || tip_height - *d.height + 1 < static_cast<std::int64_t>(m_options.confirmations)) continue;
        const std::string user = payments::wallet_user_id(d.account);
        if (auto r = ensure_account(ledger::user_wallet(user)); !r) return fail(r.error());
        ledger::Transfer t;
        t.id = deposit_transfer_id("deposit", d.outpoint, d.credits);
        t.debit_account_id = ledger::kOnchainAssetsId;
        t.credit_account_id = ledger::user_wallet_id(user);
        t.amount_msat = d.amount_sat * kMsatPerSat;
        t.code = ledger::transfer_code::deposit;
        t.user_data = ledger::id_from_bytes(ByteSpan(d.outpoint.txid.data(), ledger::kIdBytes));
        t.memo = "deposit " + outpoint_text(d.outpoint);
        auto outcome = m_ledger.create_transfers({t});
        if (!outcome) return fail(OnchainFailure{OnchainError::ledger, outcome.error().message});
        const auto r = outcome->at(0).result;
        if (!ledger::applied(r)) {
            return fail(OnchainFailure{OnchainError::ledger, "the ledger refused the deposit " +
                                                                 outpoint_text(d.outpoint) + ": " +
                                                                 std::string(ledger::result_name(r))});
        }
        if (auto m = m_store.mark_credited(d.outpoint); !m) return fail(store_failure(m.error()));
        if (r == ledger::TransferResult::ok) ++credited;
    }
    return credited;
}

OnchainResult<std::int64_t> OnchainWallet::book_reversals() {
    auto rows = m_store.deposits_with_status(DepositStatus::reversing);
    if (!rows) return fail(store_failure(rows.error()));
    std::int64_t n = 0;
    for (const auto& d : *rows) {
        if (auto r = reverse_one(d); !r) return fail(r.error());
        ++n;
    }
    return n;
}

OnchainResult<void> OnchainWallet::reverse_one(const DepositRecord& d) {
    const std::string user = payments::wallet_user_id(d.account);
    const ledger::Id128 wallet = ledger::user_wallet_id(user);
    const std::int64_t amount_msat = d.amount_sat * kMsatPerSat;
    const std::int64_t epoch = d.credits - 1;  // the credit being taken back
    ReversalPlan plan;
    if (d.plan) {
        plan = *d.plan;
    } else {
        // Freeze first when the wallet cannot cover it, so it cannot be spent meanwhile.
        const auto account = m_ledger.lookup_account(wallet);
        const std::int64_t available = account ? std::max<std::int64_t>(account->available_msat(), 0) : 0;
        plan.wallet_msat = std::min(available, amount_msat);
        plan.receivable_msat = amount_msat - plan.wallet_msat;
        if (auto r = m_store.set_reversal_plan(d.outpoint, plan, d.plan_attempt); !r) return fail(store_failure(r.error()));
    }
    if (plan.receivable_msat > 0) {
        const std::string why = fmt::format("a reorg took back deposit {} ({} sat); {} msat could not be covered "
                                            "and is owed (receivable)",
                                            outpoint_text(d.outpoint), d.amount_sat, plan.receivable_msat);
        if (m_freeze) m_freeze(d.account, why);
        if (auto r = ensure_account(ledger::user_receivable(user)); !r) return fail(r.error());
    }
    std::vector<ledger::Transfer> group;
    const std::int64_t n = epoch * 1000 + d.plan_attempt;
    if (plan.wallet_msat > 0) {
        ledger::Transfer t;
        t.id = deposit_transfer_id("deposit-reversal", d.outpoint, n);
        t.debit_account_id = wallet;
        t.credit_account_id = ledger::kOnchainAssetsId;
        t.amount_msat = plan.wallet_msat;
        t.code = ledger::transfer_code::deposit_reversal;
        t.memo = "reorg reversal of deposit " + outpoint_text(d.outpoint);
        group.push_back(std::move(t));
    }
    if (plan.receivable_msat > 0) {
        ledger::Transfer t;
        t.id = deposit_transfer_id("deposit-receivable", d.outpoint, n);
        t.debit_account_id = ledger::user_receivable_id(user);
        t.credit_account_id = ledger::kOnchainAssetsId;
        t.amount_msat = plan.receivable_msat;
        t.code = ledger::transfer_code::deposit_reversal;
        t.memo = "reorg reversal of deposit " + outpoint_text(d.outpoint) + ": owed";
        group.push_back(std::move(t));
    }
    if (group.size() == 2) group.front().flags = ledger::transfer_flags::linked;
    auto outcome = m_ledger.create_transfers(group);
    if (!outcome) return fail(OnchainFailure{OnchainError::ledger, outcome.error().message});
    for (const auto& o : *outcome) {
        if (ledger::applied(o.result)) continue;
        // Refused (the wallet was spent between plan and booking): plan again under new ids.
        (void)m_store.set_reversal_plan(d.outpoint, std::nullopt, d.plan_attempt + 1);
        return fail(OnchainFailure{OnchainError::ledger, "the ledger refused the reversal of " +
                                                             outpoint_text(d.outpoint) + ": " +
                                                             std::string(ledger::result_name(o.result)) +
                                                             " (planned again next round)"});
    }
    if (auto r = m_store.mark_reversed(d.outpoint, plan.wallet_msat, plan.receivable_msat); !r) {
        return fail(store_failure(r.error()));
    }
    alert(fmt::format("ALERT chain watcher: reversed deposit {} for account {}: {} msat from the wallet, {} msat "
                      "to the receivable{}",
                      outpoint_text(d.outpoint), d.account, plan.wallet_msat, plan.receivable_msat,
                      plan.receivable_msat > 0 ? " and the wallet is FROZEN" : ""));
    return {};
}

ledger::AuditCheck OnchainWallet::audit_deposits() {
    ledger::AuditCheck check{"chain_deposits", true, {}};
    const auto failed = [&check](std::string detail) {
        check.passed = false;
        check.detail = std::move(detail);
        return check;
    };
    std::vector<DepositRecord> all;
    for (const DepositStatus s :
         {DepositStatus::pending, DepositStatus::credited, DepositStatus::orphaned,
          DepositStatus::reversing, DepositStatus::reversed}) {
        auto rows = m_store.deposits_with_status(s);
        if (!rows) return failed("cannot read the deposits: " + rows.error().message);
        all.insert(all.end(), rows->begin(), rows->end());
    }
    std::int64_t credits_checked = 0;
    for (std::size_t from = 0; from < all.size(); from += kAuditDepositsPerLookup) {
        const std::size_t to = std::min(all.size(), from + kAuditDepositsPerLookup);
        std::vector<ledger::Id128> ids;
        for (std::size_t i = from; i < to; ++i) {
            for (std::int64_t n = 0; n <= all[i].credits; ++n)
                ids.push_back(deposit_transfer_id("deposit", all[i].outpoint, n));
        }
        auto known = m_ledger.lookup_transfers(ids);
        if (!known) return failed("cannot read the ledger: " + known.error().message);
        std::unordered_map<ledger::Id128, const ledger::KnownTransfer*, ledger::Id128Hash> by_id;
        for (const auto& k : *known) {
            if (!k.failure) by_id.emplace(k.transfer.id, &k);
        }
        for (std::size_t i = from; i < to; ++i) {
            const DepositRecord& d = all[i];
            const std::string what = "deposit " + outpoint_text(d.outpoint);
            const std::int64_t amount_msat = d.amount_sat * kMsatPerSat;
            const ledger::Id128 wallet =
                ledger::user_wallet_id(payments::wallet_user_id(d.account));
            for (std::int64_t n = 0; n < d.credits; ++n) {
                const auto it = by_id.find(deposit_transfer_id("deposit", d.outpoint, n));
                if (it == by_id.end())
                    return failed(fmt::format("{}: credit {} is not in the ledger", what, n));
                const ledger::Transfer& t = it->second->transfer;
                if (t.amount_msat != amount_msat || t.credit_account_id != wallet ||
                    t.code != ledger::transfer_code::deposit) {
                    return failed(fmt::format(
                        "{}: credit {} in the ledger is {} msat to another account or of another "
                        "kind (the record says {} msat to account {})",
                        what, n, t.amount_msat, amount_msat, d.account));
                }
                ++credits_checked;
            }
            if (d.status != DepositStatus::pending &&
                by_id.count(deposit_transfer_id("deposit", d.outpoint, d.credits))) {
                return failed(
                    fmt::format("{} ({}): the ledger holds a credit the record does not count",
                                what, deposit_status_name(d.status)));
            }
            const bool counts =
                d.status == DepositStatus::credited || d.status == DepositStatus::reversing;
            auto net = checked_mul(Msat{amount_msat}, d.credits);
            if (net) net = checked_sub(*net, Msat{d.reversed_msat});
            if (net) net = checked_sub(*net, Msat{d.receivable_msat});
            if (!net || net->value != (counts ? amount_msat : 0)) {
                return failed(fmt::format(
                    "{} ({}): {} credits of {} msat less {} msat reversed and {} msat owed leave "
                    "{}, not {} msat",
                    what, deposit_status_name(d.status), d.credits, amount_msat, d.reversed_msat,
                    d.receivable_msat, net ? std::to_string(net->value) + " msat" : "an overflow",
                    counts ? amount_msat : 0));
            }
        }
    }
    check.detail = fmt::format("{} deposit records, {} credits found in the ledger as recorded",
                               all.size(), credits_checked);
    return check;
}

}  // namespace satload::onchain
