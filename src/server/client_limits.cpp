// Client addresses and 429 answers (see client_limits.h).
#include "server/client_limits.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <optional>

#include "server/app.h"

namespace satload::server {

namespace {

bool is_port(std::string_view text) {
    return !text.empty() && text.size() <= 5 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The address of an entry some proxies write with the client's port ("203.0.113.9:51234",
// "[2001:db8::1]:51234", or the bracketed address alone); nullopt for any other text. Counted
// with its port, one client would be a new key per connection.
std::optional<boost::asio::ip::address> address_of_entry(std::string_view entry) {
    boost::system::error_code ec;
    if (entry.starts_with('[')) {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view rest = entry.substr(close + 1);
        if (!rest.empty() && !(rest.front() == ':' && is_port(rest.substr(1)))) return std::nullopt;
        const auto ip = boost::asio::ip::make_address_v6(entry.substr(1, close - 1), ec);
        if (ec) return std::nullopt;
        return boost::asio::ip::address(ip);
    }
    const auto colon = entry.find(':');
    if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos &&
        is_port(entry.substr(colon + 1))) {
        const auto ip = boost::asio::ip::make_address_v4(entry.substr(0, colon), ec);
        if (!ec) return boost::asio::ip::address(ip);
        return std::nullopt;
    }
    const auto ip = boost::asio::ip::make_address(entry, ec);
    if (ec) return std::nullopt;
    return ip;
}

}  // namespace

std::string limit_key(std::string_view address) {
    const auto parsed = address_of_entry(address);
    if (!parsed) return std::string(address);
    const auto& ip = *parsed;
    if (!ip.is_v6()) return ip.to_string();
    const auto v6 = ip.to_v6();
    if (v6.is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    }
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), std::uint8_t{0});  // the /64: no zone, no host part
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string client_address(const Request& req, bool trust_proxy, std::string_view peer) {
    if (trust_proxy) {
        // The proxy appends the address it saw to whatever X-Forwarded-For the client sent (as
        // an entry, or as a header line of its own): only the last entry of the last line is
        // the proxy's word. An earlier one would let a client pick its own address and escape
        // every limit keyed on it.
        std::optional<std::string_view> last_line;
        for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) last_line = it->value();
        if (last_line) {
            std::string_view v = *last_line;
            if (const auto comma = v.rfind(','); comma != std::string_view::npos) v.remove_prefix(comma + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            if (!v.empty()) return limit_key(v.substr(0, kClientAddressBytesMax));
        }
    }
    return limit_key(peer.substr(0, kClientAddressBytesMax));
}

awaitable<void> send_too_many_requests(Exchange& ex, std::int64_t retry_after_s, std::string_view detail) {
    // A request whose body we did not read cannot be followed on this connection.
    if (!ex.body_done()) ex.close_after_response();
    StringResponse res =
        App::problem_response(ex.request().version(), ex.keep_alive(), Problem::too_many_requests, detail);
    res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, retry_after_s)));
    co_await ex.send(std::move(res));
}

}  // namespace satload::server
