// Deposit addresses, the deposit list, and the watcher thread's loop.
#include "onchain/wallet.h"

#include <fmt/format.h>

#include <cstdio>

#include "chain/address.h"
#include "core/check.h"
#include "crypto/primitives.h"

namespace satload::onchain {
namespace {

chain::ExtendedKey branch_key(const chain::ExtendedKey& account, Branch branch) {
    auto key = chain::derive_child(account, static_cast<std::uint32_t>(branch));
    SATLOAD_ASSERT(key.has_value());  // probability below 2^-127
    return key->neutered();
}

}  // namespace

std::string_view onchain_error_name(OnchainError e) {
    switch (e) {
        case OnchainError::store: return "store";
        case OnchainError::node: return "node";
        case OnchainError::bad_block: return "bad_block";
        case OnchainError::ledger: return "ledger";
        case OnchainError::halted: return "halted";
    }
    return "unknown";
}

ledger::Id128 deposit_transfer_id(std::string_view kind, const chain::OutPoint& outpoint, std::int64_t n) {
    crypto::Sha256 h;
    const std::string domain = "satload/v1 " + std::string(kind);
    h.update(as_bytes(domain));
    h.update(outpoint.txid);
    const std::string rest = fmt::format(":{}:{}", outpoint.vout, n);
    h.update(as_bytes(rest));
    const auto d = h.finish();
    ledger::Id128 id = ledger::id_from_bytes(ByteSpan(d.data(), ledger::kIdBytes));
    if (id.high == 0) id.high = 1;  // clear of the system accounts' range
    return id;
}

OnchainWallet::OnchainWallet(ChainStore& store, NodeRpc& node, ledger::Ledger& ledger,
                             const chain::ExtendedKey& account_key, OnchainOptions options)
    : m_store(store),
      m_node(node),
      m_ledger(ledger),
      m_options(options),
      m_network(chain::network_params(options.network)),
      m_account_key(account_key),
      m_receive_key(branch_key(account_key, Branch::receive)),
      m_change_key(branch_key(account_key, Branch::change)) {
    SATLOAD_ASSERT(m_options.confirmations >= 1);
    m_alert = [](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
        std::fflush(stderr);
    };
}

OnchainWallet::~OnchainWallet() { stop(); }

Bytes OnchainWallet::script_at(Branch branch, std::uint32_t index) const {
    auto key = chain::derive_child(branch == Branch::receive ? m_receive_key : m_change_key, index);
    SATLOAD_ASSERT(key.has_value());
    return chain::witness_script_pubkey(chain::p2wpkh_program(key->public_key));
}

std::string OnchainWallet::address_at(Branch branch, std::uint32_t index) const {
    auto key = chain::derive_child(branch == Branch::receive ? m_receive_key : m_change_key, index);
    SATLOAD_ASSERT(key.has_value());
    return chain::p2wpkh_address(m_network, key->public_key);
}

chain::PrivateKey OnchainWallet::private_key_at(Branch branch, std::uint32_t index) const {
    auto key = chain::derive_path(m_account_key, {static_cast<std::uint32_t>(branch), index});
    SATLOAD_ASSERT(key.has_value() && key->private_key.has_value());
    return *key->private_key;
}

OnchainResult<AddressRecord> OnchainWallet::allocate(Branch branch, std::optional<AccountId> account) {
    auto next = m_store.next_index(branch);
    if (!next) return fail(OnchainFailure{OnchainError::store, next.error().message});
    if (*next >= chain::kHardenedBit) return fail(OnchainFailure{OnchainError::store, "addresses exhausted"});
    AddressRecord a;
    a.branch = branch;
    a.index = *next;
    a.account = account;
    a.script = script_at(branch, *next);
    if (auto r = m_store.insert_address(a); !r) return fail(OnchainFailure{OnchainError::store, r.error().message});
    return a;
}

OnchainResult<AddressRecord> OnchainWallet::new_change_address() {
    const std::lock_guard lock(m_alloc_mutex);
    return allocate(Branch::change, std::nullopt);
}

OnchainResult<std::string> OnchainWallet::deposit_address(AccountId account) {
    const std::lock_guard lock(m_alloc_mutex);
    auto current = m_store.unused_address(account);
    if (!current) return fail(OnchainFailure{OnchainError::store, current.error().message});
    if (*current) return address_at(Branch::receive, (*current)->index);
    auto fresh = allocate(Branch::receive, account);
    if (!fresh) return fail(fresh.error());
    return address_at(Branch::receive, fresh->index);
}

OnchainResult<std::vector<DepositView>> OnchainWallet::deposits(AccountId account) {
    auto rows = m_store.deposits_of(account);
    if (!rows) return fail(OnchainFailure{OnchainError::store, rows.error().message});
    const std::int64_t tip = m_tip_height.load();
    std::vector<DepositView> out;
    out.reserve(rows->size());
    for (const auto& d : *rows) {
        DepositView v;
        v.txid = chain::hash_to_display_hex(d.outpoint.txid);
        v.vout = d.outpoint.vout;
        v.amount_msat = d.amount_sat * kMsatPerSat;
        v.confirmations = d.height && tip >= *d.height ? tip - *d.height + 1 : 0;
        v.status = std::string(deposit_status_name(d.status));
        out.push_back(std::move(v));
    }
    return out;
}

void OnchainWallet::alert(const std::string& line) {
    if (m_alert) m_alert(line);
}

void OnchainWallet::start() {
    const std::lock_guard lock(m_loop_mutex);
    if (m_thread.joinable()) return;
    m_stopping = false;
    m_thread = std::thread([this] { run_loop(); });
}

void OnchainWallet::stop() {
    {
        const std::lock_guard lock(m_loop_mutex);
        m_stopping = true;
    }
    m_loop_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void OnchainWallet::run_loop() {
    std::chrono::milliseconds wait = m_options.poll_interval;
    bool away = false;
    bool leading = !m_lease;
    for (;;) {
        if (m_lease) {
            const bool holds = m_lease();
            if (holds != leading) {
                alert(holds ? "chain watcher: this instance holds the watcher lease and follows the node"
                            : "chain watcher: another instance follows the node");
            }
            leading = holds;
        }
        if (!leading) {
            std::unique_lock lock(m_loop_mutex);
            if (m_loop_cv.wait_for(lock, m_options.poll_interval, [this] { return m_stopping; })) return;
            continue;
        }
        auto r = sync_once();
        if (r) {
            if (away) alert("chain watcher: the node answers again; caught up to height " +
                            std::to_string(r->node_height));
            away = false;
            wait = m_options.poll_interval;
        } else if (r.error().code == OnchainError::halted) {
            wait = m_options.max_backoff;
        } else {
            // The node (or a store) is away: say so once, then back off, doubling.
            if (!away) alert("chain watcher: " + r.error().message + "; retrying with back-off");
            away = true;
            wait = std::min(wait * 2, m_options.max_backoff);
        }
        std::unique_lock lock(m_loop_mutex);
        if (m_loop_cv.wait_for(lock, wait, [this] { return m_stopping; })) return;
    }
}

}  // namespace satload::onchain
