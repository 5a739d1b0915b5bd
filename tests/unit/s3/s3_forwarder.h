// A loopback TCP forwarder to the S3 endpoint for the S3 store's tests: cut to stage an
// outage, and counting a header in the requests to show what the store sent.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace satload::s3::testing {

inline constexpr std::size_t kPumpBytes = 64 * 1024;

// Forwards every connection accepted on 127.0.0.1:port to the S3 endpoint until cut(), which
// closes the listener and every forwarded connection; listen() again takes the same port.
// Counts the requests' lines that start with a given text (a header's name and colon), in
// every connection, however the stream is split.
class CuttableForwarder {
public:
    explicit CuttableForwarder(std::uint16_t port, std::string counted = {})
        : m_target(port), m_counted(std::move(counted)) {}
    ~CuttableForwarder() { cut(); }
    CuttableForwarder(const CuttableForwarder&) = delete;
    CuttableForwarder& operator=(const CuttableForwarder&) = delete;

    [[nodiscard]] std::uint16_t port() const { return m_port; }
    // Request lines seen so far that start with the counted text.
    [[nodiscard]] std::size_t counted() const { return m_count.load(); }

    bool listen() {
        m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in addr = loopback(m_port);
        if (::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
            ::listen(m_listener, 64) != 0) {
            return false;
        }
        socklen_t len = sizeof(addr);
        ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_accept = std::thread([this, fd = m_listener] { accept_loop(fd); });
        return true;
    }

    void cut() {
        // The accept loop first, so no connection is added while the others are ended.
        if (m_listener >= 0) ::shutdown(m_listener, SHUT_RDWR);
        if (m_accept.joinable()) m_accept.join();
        {
            std::lock_guard lock(m_mutex);
            for (int fd : m_open) ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& t : m_threads) t.join();
        m_threads.clear();
        std::lock_guard lock(m_mutex);
        for (int fd : m_open) ::close(fd);
        m_open.clear();
        if (m_listener >= 0) ::close(m_listener);
        m_listener = -1;
    }

private:
    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return addr;
    }

    void accept_loop(int listener) {
        for (;;) {
            const int client = ::accept(listener, nullptr, nullptr);
            if (client < 0) return;
            const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr = loopback(m_target);
            std::lock_guard lock(m_mutex);
            m_open.push_back(client);
            m_open.push_back(upstream);
            if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
                ::shutdown(client, SHUT_RDWR);
                continue;
            }
            m_threads.emplace_back([this, client, upstream] { pump(client, upstream, true); });
            m_threads.emplace_back([this, client, upstream] { pump(upstream, client, false); });
        }
    }

    // Copies from -> to until either side ends, then ends both; counts in `requests`.
    void pump(int from, int to, bool requests) {
        std::vector<char> buffer(kPumpBytes);
        const std::string needle = "\r\n" + m_counted;
        std::string carry;  // the end of the previous read, for a line split across reads
        for (;;) {
            const ssize_t n = ::read(from, buffer.data(), buffer.size());
            if (n <= 0) break;
            if (requests && !m_counted.empty()) {
                carry.append(buffer.data(), static_cast<std::size_t>(n));
                for (auto at = carry.find(needle); at != std::string::npos;
                     at = carry.find(needle, at + 1)) {
                    ++m_count;
                }
                carry.erase(0, carry.size() - std::min(carry.size(), needle.size() - 1));
            }
            if (::send(to, buffer.data(), static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
        }
        ::shutdown(from, SHUT_RDWR);
        ::shutdown(to, SHUT_RDWR);
    }

    std::uint16_t m_target;
    std::string m_counted;
    std::atomic<std::size_t> m_count{0};
    std::uint16_t m_port = 0;
    int m_listener = -1;
    std::thread m_accept;
    std::mutex m_mutex;  // guards m_open and m_threads while the accept loop runs
    std::vector<int> m_open;
    std::vector<std::thread> m_threads;  // two pumps a forwarded connection
};

}  // namespace satload::s3::testing
