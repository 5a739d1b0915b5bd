// An in-process bitcoin node for the onchain unit tests: a chain of blocks built with
// src/chain, served through the NodeRpc interface, with a mempool, reorgs and outages.
#pragma once

#include <optional>
#include <vector>

#include "chain/address.h"
#include "chain/block.h"
#include "onchain/rpc.h"

namespace satload::onchain {

// A node that serves a chain of blocks built here; `away` makes every call fail like a
// dead connection.
class FakeNode final : public NodeRpc {
public:
    FakeNode() { mine({}); }  // genesis

    RpcResult<std::int64_t> block_count() override {
        if (away) return down();
        return static_cast<std::int64_t>(m_chain.size()) - 1;
    }
    RpcResult<chain::Hash256> block_hash(std::int64_t height) override {
        if (away) return down();
        if (height < 0 || height >= static_cast<std::int64_t>(m_chain.size())) {
            return fail(RpcFailure{RpcError::node_error, "Block height out of range", -8});
        }
        return chain::block_hash(m_chain[static_cast<std::size_t>(height)].header);
    }
    RpcResult<Bytes> raw_block(const chain::Hash256& hash) override {
        if (away) return down();
        for (const auto& b : m_chain) {
            if (chain::block_hash(b.header) == hash) return chain::serialize_block(b);
        }
        for (const auto& b : m_stale) {
            if (chain::block_hash(b.header) == hash) return chain::serialize_block(b);
        }
        return fail(RpcFailure{RpcError::node_error, "Block not found", -5});
    }
    // Like bcoin: answers the txid whatever it does with the transaction; `reject` keeps it out.
    RpcResult<std::string> send_raw_transaction(ByteSpan tx) override {
        if (away) return down();
        auto parsed = chain::parse_transaction(tx);
        if (!parsed) return fail(RpcFailure{RpcError::node_error, "TX decode failed", -22});
        ++broadcasts;
        if (!reject) {
            const auto id = chain::txid(*parsed);
            bool known = false;
            for (const auto& m : mempool) known = known || chain::txid(m) == id;
            if (!known) mempool.push_back(*parsed);
        }
        return chain::hash_to_display_hex(chain::txid(*parsed));
    }
    RpcResult<bool> in_mempool(const chain::Hash256& id) override {
        if (away) return down();
        for (const auto& m : mempool) {
            if (chain::txid(m) == id) return true;
        }
        return false;
    }
    RpcResult<std::optional<double>> estimate_fee_sat_per_vb(int) override {
        if (away) return down();
        return fee_estimate;
    }
    // Mines the mempool into a block.
    chain::Hash256 mine_mempool() {
        auto txs = std::move(mempool);
        mempool.clear();
        return mine(std::move(txs));
    }

    // Appends a block holding `txs` after a coinbase unique to its height and branch.
    chain::Hash256 mine(std::vector<chain::Transaction> txs) {
        chain::Block b;
        b.header.version = 4;
        if (!m_chain.empty()) b.header.previous_block = chain::block_hash(m_chain.back().header);
        b.header.time = static_cast<std::uint32_t>(1'700'000'000 + m_chain.size() * 600 + m_salt);
        chain::Transaction coinbase;
        chain::TxIn in;
        in.prevout.vout = 0xffffffff;
        in.script_sig = {static_cast<std::uint8_t>(m_chain.size()), static_cast<std::uint8_t>(m_chain.size() >> 8),
                         static_cast<std::uint8_t>(m_salt)};
        coinbase.inputs.push_back(in);
        coinbase.outputs.push_back(chain::TxOut{50'0000'0000, {0x51}});
        b.transactions.push_back(coinbase);
        for (auto& t : txs) b.transactions.push_back(std::move(t));
        b.header.merkle_root = chain::merkle_root(b.transactions);
        m_chain.push_back(b);
        return chain::block_hash(b.header);
    }
    void mine_empty(int n) {
        for (int i = 0; i < n; ++i) mine({});
    }
    // Drops the blocks above `height` (like invalidateblock); later blocks form a new branch.
    void rewind_to(std::int64_t height) {
        while (static_cast<std::int64_t>(m_chain.size()) - 1 > height) {
            m_stale.push_back(m_chain.back());
            m_chain.pop_back();
        }
        ++m_salt;
    }
    [[nodiscard]] std::int64_t height() const { return static_cast<std::int64_t>(m_chain.size()) - 1; }

    bool away = false;
    bool reject = false;
    int broadcasts = 0;
    std::vector<chain::Transaction> mempool;
    std::optional<double> fee_estimate;

private:
    static tl::unexpected<RpcFailure> down() { return fail(RpcFailure{RpcError::unreachable, "connection refused", 0}); }
    std::vector<chain::Block> m_chain;
    std::vector<chain::Block> m_stale;
    int m_salt = 0;
};

// A transaction paying `value_sat` to `address` (regtest), spending an outpoint nobody has.
inline chain::Transaction pay(const std::string& address, std::int64_t value_sat, std::uint8_t tag = 1) {
    auto program = chain::decode_segwit_address(chain::network_params(chain::Network::regtest), address);
    EXPECT_TRUE(program);
    chain::Transaction tx;
    chain::TxIn in;
    in.prevout.txid.fill(tag);
    in.prevout.vout = tag;
    tx.inputs.push_back(in);
    tx.outputs.push_back(chain::TxOut{value_sat, chain::witness_script_pubkey(*program)});
    return tx;
}


}  // namespace satload::onchain
