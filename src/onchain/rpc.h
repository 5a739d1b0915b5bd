// The bitcoin node's JSON-RPC surface satload uses (Bitcoin Core compatible, as bcoin speaks
// it): an interface, so the watcher can be tested against an in-process fake, and the HTTP
// client over Boost.Beast with basic auth from the URL, timeouts and a response size limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chain/block.h"
#include "chain/hashes.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::onchain {

// A block's hex is twice its size; the JSON around it is small.
inline constexpr std::size_t kMaxRpcResponseBytes = 2 * chain::kMaxBlockBytes + 64 * 1024;
inline constexpr std::chrono::milliseconds kDefaultRpcTimeout{10'000};

enum class RpcError {
    bad_url,        // the node URL is not http://[user:password@]host:port/
    unreachable,    // connect, send or receive failed or timed out
    http_status,    // an HTTP status other than 200 without a JSON-RPC error
    bad_response,   // not JSON-RPC, or a result of the wrong shape
    too_large,      // the response is above kMaxRpcResponseBytes
    node_error,     // the node answered a JSON-RPC error (message says which)
};

[[nodiscard]] std::string_view rpc_error_name(RpcError e);

struct RpcFailure {
    RpcError code;
    std::string message;
    std::int64_t node_code = 0;  // the JSON-RPC error code, for node_error
};

template <class T>
using RpcResult = Result<T, RpcFailure>;

class NodeRpc {
public:
    virtual ~NodeRpc() = default;
    [[nodiscard]] virtual RpcResult<std::int64_t> block_count() = 0;
    [[nodiscard]] virtual RpcResult<chain::Hash256> block_hash(std::int64_t height) = 0;
    // `getblock <hash> 0`: the raw block, parsed by us (never the node's JSON amounts).
    [[nodiscard]] virtual RpcResult<Bytes> raw_block(const chain::Hash256& hash) = 0;
    // The txid the node answers. It is no proof of acceptance (bcoin answers it for rejected
    // transactions too): callers check in_mempool.
    [[nodiscard]] virtual RpcResult<std::string> send_raw_transaction(ByteSpan tx) = 0;
    [[nodiscard]] virtual RpcResult<bool> in_mempool(const chain::Hash256& txid) = 0;
    // estimatesmartfee: sat per vbyte, nullopt when the node has no estimate.
    [[nodiscard]] virtual RpcResult<std::optional<double>> estimate_fee_sat_per_vb(int target_blocks) = 0;
};

// What the client makes of the node's answer to each call: the HTTP status and body of the
// response, read from a node we do not control. Pure (no I/O), so they are unit tested and
// fuzzed without a node (fuzz/onchain_rpc_fuzz.cpp). A JSON-RPC error object wins over the
// HTTP status (bitcoind answers 500 with one); a body above kMaxRpcResponseBytes is too_large.
[[nodiscard]] RpcResult<std::int64_t> parse_block_count_response(unsigned http_status,
                                                                 std::string_view body);
[[nodiscard]] RpcResult<chain::Hash256> parse_block_hash_response(unsigned http_status,
                                                                  std::string_view body);
[[nodiscard]] RpcResult<Bytes> parse_raw_block_response(unsigned http_status, std::string_view body);
[[nodiscard]] RpcResult<std::string> parse_send_raw_transaction_response(unsigned http_status,
                                                                        std::string_view body);
[[nodiscard]] RpcResult<bool> parse_in_mempool_response(unsigned http_status, std::string_view body,
                                                        const chain::Hash256& txid);
// A node error (a node without an estimator) and any result without a positive finite
// feerate are "no estimate"; the rate is converted from BTC/kvB to sat/vB.
[[nodiscard]] RpcResult<std::optional<double>> parse_estimate_fee_response(unsigned http_status,
                                                                           std::string_view body);

// http://user:password@host:port/ ; the credentials go into an Authorization header.
[[nodiscard]] Result<std::unique_ptr<NodeRpc>, RpcFailure> make_http_node_rpc(
    std::string_view url, std::chrono::milliseconds timeout = kDefaultRpcTimeout);

}  // namespace satload::onchain
