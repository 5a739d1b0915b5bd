// Fuzzes the parsers of the bitcoin node's JSON-RPC answers (onchain/rpc.h) with the input as
// the HTTP response body, under a 200 and an error status. No crash; the calls agree on the
// envelope (a node error or an HTTP failure is the same for every call); what one accepts
// round-trips to the JSON result it came from; a body past kMaxRpcResponseBytes never parses.
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "chain/hashes.h"
#include "core/encoding.h"
#include "fuzz_text.h"
#include "onchain/rpc.h"

namespace onchain = satload::onchain;
namespace chain = satload::chain;
namespace json = boost::json;
using satload::fuzz::lower;

namespace {

// The "result" member of a body, parsed independently of the code under test.
std::optional<json::value> result_of(std::string_view body) {
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* r = v.as_object().if_contains("result");
    if (r == nullptr) return std::nullopt;
    return *r;
}

// Failures of the envelope (everything but the result's shape) are the same for every call.
bool envelope_failure(const onchain::RpcFailure& f) { return f.code != onchain::RpcError::bad_response; }

template <class T>
void check_agrees(const onchain::RpcResult<T>& r, const onchain::RpcResult<std::int64_t>& reference) {
    const bool envelope_failed = !reference && envelope_failure(reference.error());
    if (envelope_failed) {
        if (r) std::abort();
        if (r.error().code != reference.error().code) std::abort();
        if (r.error().node_code != reference.error().node_code) std::abort();
    } else if (!r && envelope_failure(r.error())) {
        std::abort();
    }
}

void check_body(unsigned status, std::string_view body) {
    const auto count = onchain::parse_block_count_response(status, body);
    const auto hash = onchain::parse_block_hash_response(status, body);
    const auto block = onchain::parse_raw_block_response(status, body);
    const auto sent = onchain::parse_send_raw_transaction_response(status, body);
    const auto fee = onchain::parse_estimate_fee_response(status, body);
    check_agrees(hash, count);
    check_agrees(block, count);
    check_agrees(sent, count);

    // Nothing is accepted under an error status.
    if (status != 200 && (count || hash || block || sent)) std::abort();
    if (count && *count < 0) std::abort();
    // The node error of estimatesmartfee is "no estimate"; any other failure is the envelope's.
    if (!count && count.error().code == onchain::RpcError::node_error) {
        if (!fee || fee->has_value()) std::abort();
    }
    if (fee && fee->has_value() && !(**fee > 0 && std::isfinite(**fee))) std::abort();

    const auto result = result_of(body);
    if (hash) {
        if (!result || !result->is_string()) std::abort();
        if (chain::hash_to_display_hex(*hash) != lower(result->as_string())) std::abort();
        // The mempool lookup finds a hash exactly when the answer lists it.
        const std::string list = "{\"result\":[\"" + chain::hash_to_display_hex(*hash) + "\"]}";
        const auto in = onchain::parse_in_mempool_response(200, list, *hash);
        if (!in || !*in) std::abort();
    }
    if (block) {
        if (!result || !result->is_string()) std::abort();
        if (satload::hex_encode(*block) != lower(result->as_string())) std::abort();
        // The same answer past the size limit (valid JSON still: trailing blanks) is refused.
        std::string padded(body);
        padded.resize(onchain::kMaxRpcResponseBytes + 1, ' ');
        const auto big = onchain::parse_raw_block_response(status, padded);
        if (big || big.error().code != onchain::RpcError::too_large) std::abort();
    }
    if (sent) {
        if (!result || !result->is_string() || *sent != std::string_view(result->as_string())) std::abort();
    }
    if (count) {
        if (!result || !result->is_int64() || result->as_int64() != *count) std::abort();
    }

    const chain::Hash256 zero{};
    const auto in = onchain::parse_in_mempool_response(status, body, zero);
    check_agrees(in, count);
    if (in && *in) {
        // Only a listed txid is found: the all-zero hash must be in the answer's list.
        if (!result || !result->is_array()) std::abort();
        const auto& list = result->as_array();
        if (std::none_of(list.begin(), list.end(), [](const json::value& v) {
                return v.is_string() && v.as_string() == std::string(64, '0');
            })) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    check_body(200, body);
    check_body(500, body);
    return 0;
}
