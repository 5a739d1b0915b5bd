// The node's JSON-RPC over HTTP/1.1: one connection per call (a poll every second needs no
// pool), every step under one deadline, the response body capped.
#include "onchain/rpc.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <atomic>
#include <cmath>

#include "crypto/primitives.h"

namespace satload::onchain {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

RpcFailure failure(RpcError code, std::string message) { return RpcFailure{code, std::move(message), 0}; }

// The JSON-RPC envelope of a response: the result, or the failure it carries.
RpcResult<json::value> parse_envelope(std::string_view method, unsigned http_status, std::string_view body) {
    if (body.size() > kMaxRpcResponseBytes) {
        return fail(failure(RpcError::too_large, std::string(method) + ": the node's answer is too large"));
    }
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        if (http_status != 200) {
            return fail(failure(RpcError::http_status, std::string(method) + ": HTTP " + std::to_string(http_status)));
        }
        return fail(failure(RpcError::bad_response, std::string(method) + ": the answer is not JSON"));
    }
    auto& o = v.as_object();
    if (const auto* err = o.if_contains("error"); err != nullptr && !err->is_null()) {
        RpcFailure f{RpcError::node_error, std::string(method) + ": node error", 0};
        if (err->is_object()) {
            if (const auto* m = err->as_object().if_contains("message"); m && m->is_string()) {
                f.message = std::string(method) + ": " + std::string(m->as_string());
            }
            if (const auto* c = err->as_object().if_contains("code"); c && c->is_int64()) {
                f.node_code = c->as_int64();
            }
        }
        return fail(std::move(f));
    }
    if (http_status != 200) {
        return fail(failure(RpcError::http_status, std::string(method) + ": HTTP " + std::to_string(http_status)));
    }
    auto* result = o.if_contains("result");
    if (result == nullptr) return fail(failure(RpcError::bad_response, std::string(method) + ": no result"));
    return std::move(*result);
}

class HttpNodeRpc final : public NodeRpc {
public:
    HttpNodeRpc(std::string host, std::string port, std::string target, std::string authorization,
                std::chrono::milliseconds timeout)
        : m_host(std::move(host)),
          m_port(std::move(port)),
          m_target(std::move(target)),
          m_authorization(std::move(authorization)),
          m_timeout(timeout) {}
    ~HttpNodeRpc() override { crypto::secure_wipe(m_authorization.data(), m_authorization.size()); }

    RpcResult<std::int64_t> block_count() override {
        auto r = call("getblockcount", json::array{});
        if (!r) return fail(r.error());
        return parse_block_count_response(r->first, r->second);
    }

    RpcResult<chain::Hash256> block_hash(std::int64_t height) override {
        auto r = call("getblockhash", json::array{height});
        if (!r) return fail(r.error());
        return parse_block_hash_response(r->first, r->second);
    }

    RpcResult<Bytes> raw_block(const chain::Hash256& hash) override {
        auto r = call("getblock", json::array{json::string(chain::hash_to_display_hex(hash)), false});
        if (!r) return fail(r.error());
        return parse_raw_block_response(r->first, r->second);
    }

    RpcResult<std::string> send_raw_transaction(ByteSpan tx) override {
        auto r = call("sendrawtransaction", json::array{json::string(hex_encode(tx))});
        if (!r) return fail(r.error());
        return parse_send_raw_transaction_response(r->first, r->second);
    }

    RpcResult<bool> in_mempool(const chain::Hash256& txid) override {
        auto r = call("getrawmempool", json::array{});
        if (!r) return fail(r.error());
        return parse_in_mempool_response(r->first, r->second, txid);
    }

    RpcResult<std::optional<double>> estimate_fee_sat_per_vb(int target_blocks) override {
        auto r = call("estimatesmartfee", json::array{target_blocks});
        if (!r) return fail(r.error());
        return parse_estimate_fee_response(r->first, r->second);
    }

private:
    // One JSON-RPC request: the response's (status, body), for the parse_*_response functions.
    RpcResult<std::pair<unsigned, std::string>> call(std::string_view method, json::array params) {
        json::object req;
        req["jsonrpc"] = "1.0";
        req["id"] = ++m_id;
        req["method"] = method;
        req["params"] = std::move(params);
        return exchange(json::serialize(req));
    }

    // One POST: (status, body).
    RpcResult<std::pair<unsigned, std::string>> exchange(std::string payload) {
        asio::io_context io;
        beast::tcp_stream stream(io);
        http::request<http::string_body> req{http::verb::post, m_target, 11};
        req.set(http::field::host, m_host);
        req.set(http::field::content_type, "application/json");
        req.set(http::field::authorization, m_authorization);
        req.keep_alive(false);
        req.body() = std::move(payload);
        req.prepare_payload();

        beast::error_code result_ec;
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxRpcResponseBytes);
        tcp::resolver resolver(io);
        stream.expires_after(m_timeout);
        resolver.async_resolve(m_host, m_port, [&](beast::error_code ec, tcp::resolver::results_type eps) {
            if (ec) {
                result_ec = ec;
                return;
            }
            stream.async_connect(eps, [&](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) {
                    result_ec = ec2;
                    return;
                }
                http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
                    if (ec3) {
                        result_ec = ec3;
                        return;
                    }
                    http::async_read(stream, buffer, parser,
                                     [&](beast::error_code ec4, std::size_t) { result_ec = ec4; });
                });
            });
        });
        // The resolver has no deadline of its own: run_for bounds it (numeric hosts resolve
        // at once).
        io.run_for(m_timeout + std::chrono::milliseconds(100));
        if (!io.stopped()) {
            return fail(failure(RpcError::unreachable, "the node did not answer in time"));
        }
        if (result_ec == http::error::body_limit) {
            return fail(failure(RpcError::too_large, "the node's answer is too large"));
        }
        if (result_ec) return fail(failure(RpcError::unreachable, "the node is unreachable: " + result_ec.message()));
        auto res = parser.release();
        return std::pair<unsigned, std::string>(res.result_int(), std::move(res.body()));
    }

    std::string m_host;
    std::string m_port;
    std::string m_target;
    std::string m_authorization;  // secret: "Basic base64(user:password)"
    std::chrono::milliseconds m_timeout;
    std::atomic<std::int64_t> m_id{0};
};

}  // namespace

RpcResult<std::int64_t> parse_block_count_response(unsigned http_status, std::string_view body) {
    auto r = parse_envelope("getblockcount", http_status, body);
    if (!r) return fail(r.error());
    if (!r->is_int64() || r->as_int64() < 0) return fail(failure(RpcError::bad_response, "getblockcount: not a height"));
    return r->as_int64();
}

RpcResult<chain::Hash256> parse_block_hash_response(unsigned http_status, std::string_view body) {
    auto r = parse_envelope("getblockhash", http_status, body);
    if (!r) return fail(r.error());
    const auto hash = r->is_string() ? chain::hash_from_display_hex(r->as_string()) : std::nullopt;
    if (!hash) return fail(failure(RpcError::bad_response, "getblockhash: not a hash"));
    return *hash;
}

RpcResult<Bytes> parse_raw_block_response(unsigned http_status, std::string_view body) {
    auto r = parse_envelope("getblock", http_status, body);
    if (!r) return fail(r.error());
    auto bytes = r->is_string() ? hex_decode(r->as_string()) : std::nullopt;
    if (!bytes) return fail(failure(RpcError::bad_response, "getblock: not hex"));
    return std::move(*bytes);
}

RpcResult<std::string> parse_send_raw_transaction_response(unsigned http_status, std::string_view body) {
    auto r = parse_envelope("sendrawtransaction", http_status, body);
    if (!r) return fail(r.error());
    if (!r->is_string()) return fail(failure(RpcError::bad_response, "sendrawtransaction: not a txid"));
    return std::string(r->as_string());
}

RpcResult<bool> parse_in_mempool_response(unsigned http_status, std::string_view body,
                                          const chain::Hash256& txid) {
    auto r = parse_envelope("getrawmempool", http_status, body);
    if (!r) return fail(r.error());
    if (!r->is_array()) return fail(failure(RpcError::bad_response, "getrawmempool: not a list"));
    const std::string want = chain::hash_to_display_hex(txid);
    for (const auto& v : r->as_array()) {
        if (v.is_string() && v.as_string() == want) return true;
    }
    return false;
}

RpcResult<std::optional<double>> parse_estimate_fee_response(unsigned http_status, std::string_view body) {
    auto r = parse_envelope("estimatesmartfee", http_status, body);
    if (!r) {
        // A node without an estimator may refuse the method: that is "no estimate".
        if (r.error().code == RpcError::node_error) return std::optional<double>();
        return fail(r.error());
    }
    if (!r->is_object()) return std::optional<double>();
    const auto* rate = r->as_object().if_contains("feerate");
    if (rate == nullptr || !rate->is_number()) return std::optional<double>();
    // BTC per kvB; bcoin answers -1 (or 0) when it has no data.
    const double btc_per_kvb = rate->to_number<double>();
    if (!(btc_per_kvb > 0) || !std::isfinite(btc_per_kvb)) return std::optional<double>();
    return std::optional<double>(btc_per_kvb * 1e8 / 1000.0);
}

std::string_view rpc_error_name(RpcError e) {
    switch (e) {
        case RpcError::bad_url: return "bad_url";
        case RpcError::unreachable: return "unreachable";
        case RpcError::http_status: return "http_status";
        case RpcError::bad_response: return "bad_response";
        case RpcError::too_large: return "too_large";
        case RpcError::node_error: return "node_error";
    }
    return "unknown";
}

Result<std::unique_ptr<NodeRpc>, RpcFailure> make_http_node_rpc(std::string_view url,
                                                                 std::chrono::milliseconds timeout) {
    auto u = boost::urls::parse_uri(url);
    if (!u || u->scheme() != "http" || !u->has_authority() || u->host().empty()) {
        return fail(failure(RpcError::bad_url, "the node URL must be http://user:password@host:port/"));
    }
    std::string port = u->has_port() ? std::string(u->port()) : std::string("80");
    std::string target = u->encoded_path().empty() ? std::string("/") : std::string(u->encoded_path());
    std::string credentials = std::string(u->user()) + ":" + std::string(u->password());
    std::string authorization = "Basic " + base64_encode(as_bytes(credentials));
    crypto::secure_wipe(credentials.data(), credentials.size());
    return std::unique_ptr<NodeRpc>(std::make_unique<HttpNodeRpc>(
        std::string(u->host_address()), std::move(port), std::move(target), std::move(authorization), timeout));
}

}  // namespace satload::onchain
