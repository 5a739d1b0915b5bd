// The timed client of bench/paid.sh: a compiled HTTP/1.1 load client (Beast, one io_context on
// one thread) that alternates free and paid download runs against the set-up that
// `paid_client.mjs --setup-only` wrote, so the client's per-request cost is not what is measured.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

// A whole answer (a 402 challenge, a payment receipt, a 1 KiB download) is far below this.
constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;
// A connect, request or response that stalls this long fails the run.
constexpr std::chrono::seconds kIoTimeout{10};
// The free warm-up before the timed runs (connections opened, server caches warm).
constexpr std::chrono::seconds kWarmUp{1};
constexpr unsigned kDefaultConcurrency = 32;
constexpr unsigned kDefaultRuns = 3;
constexpr unsigned kDefaultRunSeconds = 5;
// The set-up file: payers' tokens and file ids, a few KiB per thousand.
constexpr std::streamsize kMaxSetupBytes = 64 * 1024 * 1024;

// Any unexpected answer ends the benchmark: it must not report a rate for failed flows.
[[noreturn]] void die(std::string_view message) {
    std::cerr << "paid_load: " << message << std::endl;
    std::exit(1);
}

unsigned env_unsigned(const char* name, unsigned fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    char* end = nullptr;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (*end != '\0' || value == 0 || value > 1'000'000) die(std::string(name) + ": not a positive count: " + text);
    return static_cast<unsigned>(value);
}

struct Setup {
    std::string host;
    std::string port;
    std::vector<std::string> payer_tokens;
    std::vector<std::string> file_ids;
    std::string free_id;
    std::int64_t price_msat = 0;
    std::size_t body_bytes = 0;  // of every download, free or paid
};

Setup read_setup(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die(std::string("cannot open ") + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.tellp() > kMaxSetupBytes) die(std::string(path) + ": too large");
    boost::system::error_code ec;
    const json::value doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object()) die(std::string(path) + ": not a JSON object");
    const json::object& o = doc.get_object();
    Setup s;
    try {
        const auto url = boost::urls::parse_uri(o.at("url").as_string());
        if (!url || url->scheme() != "http" || url->port().empty()) die("url: want http://host:port");
        s.host = url->host();
        s.port = url->port();
        for (const auto& t : o.at("payers").as_array()) s.payer_tokens.emplace_back(t.as_string());
        for (const auto& f : o.at("files").as_array()) s.file_ids.emplace_back(f.as_string());
        s.free_id = o.at("free_id").as_string();
        s.price_msat = o.at("price_msat").to_number<std::int64_t>();
        s.body_bytes = o.at("body_bytes").to_number<std::size_t>();
    } catch (const std::exception& e) {
        die(std::string(path) + ": " + e.what());
    }
    if (s.payer_tokens.empty() || s.file_ids.empty()) die("the set-up has no payers or no files");
    return s;
}

// Hands out (payer, file) pairs never used before, so every paid flow really pays.
class Pairs {
public:
    explicit Pairs(const Setup& setup) : m_setup(setup) {}

    // Pair n is (payers[n % P], files[n / P]); false once all are used.
    bool next(const std::string*& token, const std::string*& file_id) {
        const std::size_t payers = m_setup.payer_tokens.size();
        if (m_next >= payers * m_setup.file_ids.size()) {
            m_exhausted = true;
            return false;
        }
        token = &m_setup.payer_tokens[m_next % payers];
        file_id = &m_setup.file_ids[m_next / payers];
        ++m_next;
        return true;
    }
    [[nodiscard]] std::size_t used() const { return m_next; }
    [[nodiscard]] bool exhausted() const { return m_exhausted; }

private:
    const Setup& m_setup;
    std::size_t m_next = 0;
    bool m_exhausted = false;
};

using Response = http::response<http::string_body>;

// One keep-alive connection, like a browser tab: one request at a time; reopened when the
// server closes it.
class Connection {
public:
    Connection(asio::io_context& io, const tcp::resolver::results_type& endpoints, const Setup& setup)
        : m_stream(io), m_endpoints(endpoints), m_setup(setup) {}

    asio::awaitable<Response> send(http::request<http::string_body>& req) {
        req.set(http::field::host, m_setup.host);
        req.keep_alive(true);
        req.prepare_payload();
        // A server may close an idle keep-alive connection just as a request goes out: then
        // nothing of the answer came back and the request is sent again on a new connection.
        for (int attempt = 0;; ++attempt) {
            const bool reused = m_open;
            if (!m_open) co_await connect();
            m_stream.expires_after(kIoTimeout);
            auto [wec, written] = co_await http::async_write(m_stream, req, asio::as_tuple(asio::use_awaitable));
            (void)written;
            http::response_parser<http::string_body> parser;
            parser.body_limit(kMaxBodyBytes);
            beast::error_code rec = wec;
            if (!wec) {
                m_stream.expires_after(kIoTimeout);
                auto [ec, read] = co_await http::async_read(m_stream, m_buffer, parser, asio::as_tuple(asio::use_awaitable));
                (void)read;
                rec = ec;
            }
            if (rec) {
                close();
                const bool closed_idle = reused && attempt == 0 && !parser.got_some() &&
                    (rec == http::error::end_of_stream || rec == asio::error::connection_reset ||
                     rec == asio::error::broken_pipe || rec == asio::error::eof);
                if (closed_idle) continue;
                die(std::string(req.target()) + ": " + rec.message());
            }
            Response res = parser.release();
            if (!res.keep_alive()) close();
            co_return res;
        }
    }

private:
    asio::awaitable<void> connect() {
        m_stream.expires_after(kIoTimeout);
        auto [ec, endpoint] = co_await m_stream.async_connect(m_endpoints, asio::as_tuple(asio::use_awaitable));
        (void)endpoint;
        if (ec) die("connect: " + ec.message());
        m_stream.socket().set_option(tcp::no_delay(true));
        m_buffer.clear();
        m_open = true;
    }
    void close() {
        beast::error_code ignored;
        m_stream.socket().close(ignored);
        m_buffer.clear();
        m_open = false;
    }

    beast::tcp_stream m_stream;
    const tcp::resolver::results_type& m_endpoints;
    const Setup& m_setup;
    beast::flat_buffer m_buffer;
    bool m_open = false;
};

http::request<http::string_body> get(const std::string& file_id) {
    return {http::verb::get, "/d/" + file_id, 11};
}

json::object parse_object(const Response& res, std::string_view what) {
    boost::system::error_code ec;
    json::value v = json::parse(res.body(), ec);
    if (ec || !v.is_object()) die(std::string(what) + ": " + std::to_string(res.result_int()) + " answered no JSON object");
    return std::move(v.get_object());
}

std::string string_field(const json::object& o, std::string_view key, std::string_view what) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) die(std::string(what) + ": no " + std::string(key) + " in " + json::serialize(o));
    return std::string(v->get_string());
}

class Bench {
public:
    Bench(asio::io_context& io, const Setup& setup, unsigned concurrency)
        : m_io(io), m_setup(setup), m_pairs(setup) {
        tcp::resolver resolver(io);
        m_endpoints = resolver.resolve(setup.host, setup.port);
        for (unsigned i = 0; i < concurrency; ++i) m_connections.push_back(std::make_unique<Connection>(io, m_endpoints, setup));
    }

    // Flows per second of one run of `paid` or free flows on every connection for `duration`.
    double run(bool paid, Clock::duration duration) {
        const auto start = Clock::now();
        const auto end = start + duration;
        std::uint64_t done = 0;
        for (auto& c : m_connections) asio::co_spawn(m_io, worker(*c, paid, end, done), rethrow);
        m_io.run();
        m_io.restart();
        const std::chrono::duration<double> taken = Clock::now() - start;
        return static_cast<double>(done) / taken.count();
    }

    [[nodiscard]] const Pairs& pairs() const { return m_pairs; }

private:
    // Workers report failures through die(); anything else thrown (allocation) ends the run too.
    static void rethrow(const std::exception_ptr& e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            die(x.what());
        }
    }

    asio::awaitable<void> worker(Connection& c, bool paid, Clock::time_point end, std::uint64_t& done) {
        while (Clock::now() < end) {
            if (paid) {
                const bool flowed = co_await paid_flow(c);
                if (!flowed) break;
            } else {
                co_await free_flow(c);
            }
            ++done;
        }
    }

    void check_download(const Response& res, std::string_view what) const {
        if (res.result() != http::status::ok) die(std::string(what) + ": " + std::to_string(res.result_int()));
        if (res.body().size() != m_setup.body_bytes)
            die(std::string(what) + ": " + std::to_string(res.body().size()) + " bytes, want " + std::to_string(m_setup.body_bytes));
    }

    asio::awaitable<void> free_flow(Connection& c) {
        auto req = get(m_setup.free_id);
        const Response res = co_await c.send(req);
        check_download(res, "free download");
    }

    // The 402 challenge, the payment, the download with the L402 credential; false once every
    // (payer, file) pair has paid.
    asio::awaitable<bool> paid_flow(Connection& c) {
        const std::string* token = nullptr;
        const std::string* file_id = nullptr;
        if (!m_pairs.next(token, file_id)) co_return false;

        auto challenge_req = get(*file_id);
        const Response challenge = co_await c.send(challenge_req);
        if (challenge.result() != http::status::payment_required) die("challenge: " + std::to_string(challenge.result_int()));
        const std::string invoice = string_field(parse_object(challenge, "challenge"), "invoice", "challenge");

        http::request<http::string_body> pay{http::verb::post, "/api/v1/pay", 11};
        pay.set(http::field::authorization, "Bearer " + *token);
        pay.set(http::field::content_type, "application/json");
        pay.body() = json::serialize(json::object{{"invoice", invoice}, {"max_msat", m_setup.price_msat}});
        const Response paid = co_await c.send(pay);
        const json::object receipt = parse_object(paid, "pay");
        const json::value* charged = receipt.if_contains("receipt");
        const bool was_charged = charged != nullptr && charged->is_object() &&
            charged->get_object().if_contains("charged") != nullptr &&
            charged->get_object().at("charged") == json::value(true);
        if (paid.result() != http::status::ok || !was_charged)
            die("pay: " + std::to_string(paid.result_int()) + " " + json::serialize(receipt));

        auto download = get(*file_id);
        download.set(http::field::authorization, "L402 " + string_field(receipt, "macaroon", "pay") + ":" +
                                                     string_field(receipt, "preimage", "pay"));
        const Response res = co_await c.send(download);
        check_download(res, "paid download");
        co_return true;
    }

    asio::io_context& m_io;
    const Setup& m_setup;
    Pairs m_pairs;
    tcp::resolver::results_type m_endpoints;
    std::vector<std::unique_ptr<Connection>> m_connections;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) die("usage: paid_load SETUP.json   (env BENCH_PAID_CONCURRENCY, BENCH_PAID_RUNS, BENCH_PAID_DURATION_S)");
    const Setup setup = read_setup(argv[1]);
    const unsigned concurrency = env_unsigned("BENCH_PAID_CONCURRENCY", kDefaultConcurrency);
    const unsigned runs = env_unsigned("BENCH_PAID_RUNS", kDefaultRuns);
    const unsigned run_s = env_unsigned("BENCH_PAID_DURATION_S", kDefaultRunSeconds);

    asio::io_context io(1);
    Bench bench(io, setup, concurrency);
    bench.run(false, kWarmUp);
    json::array free_runs;
    json::array paid_runs;
    for (unsigned r = 0; r < runs; ++r) {
        free_runs.push_back(bench.run(false, std::chrono::seconds(run_s)));
        paid_runs.push_back(bench.run(true, std::chrono::seconds(run_s)));
    }
    const json::object out{
        {"concurrency", concurrency},
        {"run_seconds", run_s},
        {"price_msat", setup.price_msat},
        {"paid_flows", bench.pairs().used()},
        {"pairs_exhausted", bench.pairs().exhausted()},
        {"runs", json::object{{"free", free_runs}, {"paid", paid_runs}}},
    };
    std::cout << json::serialize(out) << std::endl;
    return 0;
}
