// The node's JSON-RPC client over a real loopback socket served by a scripted HTTP peer: basic
// auth from the URL, the JSON-RPC request it sends, results parsed, a node's error object
// (also under HTTP 500, as bcoin and Bitcoin Core send it), the response size cap, a peer
// that never answers (the timeout), a refused connection and a malformed URL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/encoding.h"
#include "onchain/rpc.h"

namespace satload::onchain {
namespace {

// Accepts one connection at a time on 127.0.0.1:<free port>, records the request and answers
// `response` (or nothing at all when it is empty, holding the connection open).
class ScriptedPeer {
public:
    explicit ScriptedPeer(std::string response) : m_response(std::move(response)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(m_fd, 4), 0);
        socklen_t len = sizeof a;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~ScriptedPeer() {
        m_stop = true;
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_thread.join();
    }
    [[nodiscard]] std::string url(std::string_view userinfo = "satload:s3cret") const {
        return "http://" + std::string(userinfo) + "@127.0.0.1:" + std::to_string(m_port) + "/";
    }
    std::string request;

private:
    void serve() {
        while (!m_stop) {
            const int c = ::accept(m_fd, nullptr, nullptr);
            if (c < 0) return;
            char buf[4096];
            std::string got;
            // Read the header and the Content-Length body.
            while (true) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<std::size_t>(n));
                const auto end = got.find("\r\n\r\n");
                if (end == std::string::npos) continue;
                const auto cl = got.find("Content-Length: ");
                const std::size_t body = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
                if (got.size() >= end + 4 + body) break;
            }
            request = got;
            if (m_response.empty()) {
                // Silence: hold the connection until the test is over.
                while (!m_stop) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            } else {
                (void)::send(c, m_response.data(), m_response.size(), MSG_NOSIGNAL);  // the client may hang up
            }
            ::close(c);
        }
    }
    std::string m_response;
    int m_fd = -1;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

std::string http_answer(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// The request carries basic auth from the URL and a JSON-RPC call; the result is parsed.
TEST(NodeRpc, SendsAuthAndParsesResult) {
    ScriptedPeer peer(http_answer(200, R"({"result":451,"error":null,"id":1})"));
    auto rpc = make_http_node_rpc(peer.url());
    ASSERT_TRUE(rpc);
    auto count = (*rpc)->block_count();
    ASSERT_TRUE(count) << count.error().message;
    EXPECT_EQ(*count, 451);
    const std::string expected_auth = "Basic " + base64_encode(as_bytes(std::string("satload:s3cret")));
    EXPECT_NE(peer.request.find("Authorization: " + expected_auth), std::string::npos) << peer.request;
    EXPECT_NE(peer.request.find(R"("method":"getblockcount")"), std::string::npos);
    EXPECT_EQ(peer.request.rfind("POST / HTTP/1.1", 0), 0u);
}

// A node's error object is node_error with its message and code, also under HTTP 500.
TEST(NodeRpc, NodeErrorUnder500) {
    ScriptedPeer peer(http_answer(500, R"({"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":1})"));
    auto rpc = make_http_node_rpc(peer.url());
    ASSERT_TRUE(rpc);
    auto hash = (*rpc)->block_hash(99999);
    ASSERT_FALSE(hash);
    EXPECT_EQ(hash.error().code, RpcError::node_error);
    EXPECT_EQ(hash.error().node_code, -8);
    EXPECT_NE(hash.error().message.find("Block height out of range"), std::string::npos);
}

// A wrong password: 401 without JSON is an http_status failure, never a result.
TEST(NodeRpc, UnauthorizedIsHttpStatus) {
    ScriptedPeer peer("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    auto rpc = make_http_node_rpc(peer.url("satload:wrong"));
    ASSERT_TRUE(rpc);
    auto count = (*rpc)->block_count();
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().code, RpcError::http_status);
}

// A result of the wrong shape (a hash that is not 64 hex digits) is bad_response.
TEST(NodeRpc, WrongShapeIsBadResponse) {
    ScriptedPeer peer(http_answer(200, R"({"result":"zz","error":null,"id":1})"));
    auto rpc = make_http_node_rpc(peer.url());
    auto hash = (*rpc)->block_hash(1);
    ASSERT_FALSE(hash);
    EXPECT_EQ(hash.error().code, RpcError::bad_response);
}

// An answer above the size cap is refused as too_large (the body is never kept).
TEST(NodeRpc, OversizedAnswerRefused) {
    const std::string big(kMaxRpcResponseBytes + 10, 'a');
    ScriptedPeer peer(http_answer(200, R"({"result":")" + big + R"(","error":null,"id":1})"));
    auto rpc = make_http_node_rpc(peer.url());
    chain::Hash256 h{};
    auto block = (*rpc)->raw_block(h);
    ASSERT_FALSE(block);
    EXPECT_EQ(block.error().code, RpcError::too_large);
}

// A peer that accepts and never answers: the call gives up after the timeout, unreachable.
TEST(NodeRpc, SilentPeerTimesOut) {
    ScriptedPeer peer("");
    auto rpc = make_http_node_rpc(peer.url(), std::chrono::milliseconds(300));
    ASSERT_TRUE(rpc);
    const auto start = std::chrono::steady_clock::now();
    auto count = (*rpc)->block_count();
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().code, RpcError::unreachable);
    EXPECT_GE(took, std::chrono::milliseconds(250));
    EXPECT_LT(took, std::chrono::milliseconds(3000));
}

// Nobody listening: unreachable at once. A URL that is not http://host:port is bad_url.
TEST(NodeRpc, RefusedAndBadUrl) {
    std::string url;
    {
        ScriptedPeer peer(http_answer(200, "{}"));
        url = peer.url();
    }
    auto rpc = make_http_node_rpc(url);
    ASSERT_TRUE(rpc);
    auto count = (*rpc)->block_count();
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().code, RpcError::unreachable);
    for (const char* bad : {"", "https://a:b@127.0.0.1:1/", "127.0.0.1:8332", "http:///x"}) {
        auto r = make_http_node_rpc(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, RpcError::bad_url) << bad;
    }
}

// estimatesmartfee: BTC/kvB becomes sat/vB; bcoin's -1 (no data) is "no estimate".
TEST(NodeRpc, FeeEstimate) {
    {
        ScriptedPeer peer(http_answer(200, R"({"result":{"feerate":0.00012,"blocks":6},"error":null,"id":1})"));
        auto rate = (*make_http_node_rpc(peer.url()))->estimate_fee_sat_per_vb(6);
        ASSERT_TRUE(rate && *rate);
        EXPECT_NEAR(**rate, 12.0, 1e-9);
    }
    {
        ScriptedPeer peer(http_answer(200, R"({"result":{"feerate":-1,"blocks":0},"error":null,"id":1})"));
        auto rate = (*make_http_node_rpc(peer.url()))->estimate_fee_sat_per_vb(6);
        ASSERT_TRUE(rate);
        EXPECT_FALSE(rate->has_value());
    }
}

}  // namespace
}  // namespace satload::onchain
