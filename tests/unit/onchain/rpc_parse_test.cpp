// The pure parsers of the node's JSON-RPC answers (what the HTTP client does with a response
// body, also fuzzed by fuzz/onchain_rpc_fuzz.cpp): results of the right shape, the node's
// error object winning over the HTTP status, hostile or malformed bodies refused with the
// right code, and the size limit.
#include <gtest/gtest.h>

#include <string>

#include "chain/hashes.h"
#include "core/encoding.h"
#include "onchain/rpc.h"

namespace satload::onchain {
namespace {

constexpr std::string_view kGenesisHash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

std::string answer(std::string_view result_json) {
    return "{\"result\":" + std::string(result_json) + ",\"error\":null,\"id\":1}";
}

// Each call reads its result's shape: a height, a hash in display order, raw hex, a txid.
TEST(RpcParse, ResultsOfEachCall) {
    EXPECT_EQ(*parse_block_count_response(200, answer("812345")), 812345);
    const auto hash = parse_block_hash_response(200, answer("\"" + std::string(kGenesisHash) + "\""));
    ASSERT_TRUE(hash.has_value());
    EXPECT_EQ(chain::hash_to_display_hex(*hash), kGenesisHash);
    const auto block = parse_raw_block_response(200, answer("\"00ff10\""));
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(hex_encode(*block), "00ff10");
    EXPECT_EQ(*parse_send_raw_transaction_response(200, answer("\"abc\"")), "abc");
    EXPECT_TRUE(*parse_in_mempool_response(200, answer("[\"" + std::string(kGenesisHash) + "\"]"), *hash));
    EXPECT_FALSE(*parse_in_mempool_response(200, answer("[]"), *hash));
}

// A result of the wrong shape is bad_response, never a default value.
TEST(RpcParse, WrongShapesAreBadResponses) {
    for (const std::string_view r : {"-1", "\"12\"", "1.5", "null", "18446744073709551615"}) {
        const auto count = parse_block_count_response(200, answer(r));
        ASSERT_FALSE(count.has_value()) << r;
        EXPECT_EQ(count.error().code, RpcError::bad_response) << r;
    }
    EXPECT_EQ(parse_block_hash_response(200, answer("\"00\"")).error().code, RpcError::bad_response);
    EXPECT_EQ(parse_raw_block_response(200, answer("\"abc\"")).error().code, RpcError::bad_response);
    EXPECT_EQ(parse_raw_block_response(200, answer("42")).error().code, RpcError::bad_response);
    EXPECT_EQ(parse_send_raw_transaction_response(200, answer("{}")).error().code, RpcError::bad_response);
    EXPECT_EQ(parse_in_mempool_response(200, answer("{}"), chain::Hash256{}).error().code, RpcError::bad_response);
    EXPECT_EQ(parse_block_count_response(200, "{\"error\":null}").error().code, RpcError::bad_response);
    EXPECT_EQ(parse_block_count_response(200, "[1]").error().code, RpcError::bad_response);
    EXPECT_EQ(parse_block_count_response(200, "{\"result\":1").error().code, RpcError::bad_response);
}

// The node's error object wins over the status (bitcoind sends it with 500); a body that is
// not JSON under an error status is an HTTP failure.
TEST(RpcParse, ErrorsAndStatuses) {
    const std::string err = R"({"result":null,"error":{"code":-25,"message":"missing inputs"},"id":1})";
    for (const unsigned status : {200U, 500U}) {
        const auto r = parse_send_raw_transaction_response(status, err);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, RpcError::node_error);
        EXPECT_EQ(r.error().node_code, -25);
        EXPECT_EQ(r.error().message, "sendrawtransaction: missing inputs");
    }
    EXPECT_EQ(parse_block_count_response(200, R"({"error":"no","result":null})").error().code, RpcError::node_error);
    EXPECT_EQ(parse_block_count_response(401, "Unauthorized").error().code, RpcError::http_status);
    EXPECT_EQ(parse_block_count_response(404, answer("5")).error().code, RpcError::http_status);
}

// estimatesmartfee: BTC/kvB to sat/vB; no data, a refused method or a non-number is "no
// estimate"; a malformed envelope is still a failure.
TEST(RpcParse, FeeEstimate) {
    const auto rate = parse_estimate_fee_response(200, answer(R"({"feerate":0.00012,"blocks":6})"));
    ASSERT_TRUE(rate.has_value() && rate->has_value());
    EXPECT_DOUBLE_EQ(**rate, 12.0);
    for (const std::string_view r : {R"({"feerate":-1})", R"({"feerate":0})", R"({"feerate":"1"})", "{}", "7"}) {
        const auto none = parse_estimate_fee_response(200, answer(r));
        ASSERT_TRUE(none.has_value()) << r;
        EXPECT_FALSE(none->has_value()) << r;
    }
    const auto refused = parse_estimate_fee_response(500, R"({"result":null,"error":{"code":-32601,"message":"x"}})");
    ASSERT_TRUE(refused.has_value());
    EXPECT_FALSE(refused->has_value());
    EXPECT_EQ(parse_estimate_fee_response(200, "nope").error().code, RpcError::bad_response);
}

// A body past kMaxRpcResponseBytes is too_large even when it is valid JSON; one at the limit
// parses.
TEST(RpcParse, SizeLimit) {
    std::string body = answer("7");
    body.resize(kMaxRpcResponseBytes, ' ');
    EXPECT_EQ(*parse_block_count_response(200, body), 7);
    body.push_back(' ');
    EXPECT_EQ(parse_block_count_response(200, body).error().code, RpcError::too_large);
}

}  // namespace
}  // namespace satload::onchain
