// The HTTP server: listener, connections (plain or TLS), timeouts, limits, graceful shutdown
// and the background maintenance thread (upload expiry, blob scrub).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/app.h"
#include "server/metrics.h"
#include "server/options.h"

namespace satload::server {

class ConnectionBase;
class ParkingLot;

class Server {
public:
    Server(const ServerOptions& options, files::UploadService& uploads, files::FileService& files);
    ~Server();

    // Binds and listens; returns an error message on failure.
    [[nodiscard]] std::optional<std::string> start();
    [[nodiscard]] std::uint16_t port() const { return m_port; }
    // Runs until stop() or a signal; then drains connections for up to shutdown_grace.
    void run();
    void stop();  // thread-safe: begins a graceful shutdown

    Metrics& metrics() { return m_metrics; }
    // Enables the admin API; call before run().
    void set_admin(AdminContext* admin) { m_app.set_admin(admin); }
    // Enables accounts and owned uploads; call before run().
    void set_accounts(AccountContext* accounts) { m_app.set_accounts(accounts); }
    void set_wallet(WalletContext* wallet) { m_app.set_wallet(wallet); }
    void set_onchain(OnchainContext* onchain) { m_app.set_onchain(onchain); }

    // Connection registry, for graceful shutdown.
    void add(ConnectionBase* c);
    void remove(ConnectionBase* c);
    [[nodiscard]] bool draining() const { return m_draining.load(); }
    // Idle keep-alive connections wait in the parking lot as bare sockets; one whose next
    // request begins comes back here to be served by a fresh connection.
    // One lot per event loop: a socket parks in, and resumes from, the loop it belongs to.
    ParkingLot& parking_for(const boost::asio::execution_context& context);
    // `header_deadline`: set when no request began on the socket yet (see Resumed).
    void resume(boost::asio::ip::tcp::socket socket, std::string peer_address,
                std::optional<std::chrono::steady_clock::time_point> header_deadline);

private:
    boost::asio::awaitable<void> accept_loop();
    void begin_drain();
    // Sockets waiting in the parking lots.
    [[nodiscard]] std::size_t parked() const;
    void maintenance_loop();

    const ServerOptions& m_options;
    files::UploadService& m_uploads;
    files::FileService& m_files;
    Metrics m_metrics;
    App m_app;
    // One event loop per worker thread, each run by its thread alone: a connection lives on
    // one loop from accept to close, so serving it never wakes another thread (with one loop
    // shared by all threads, every handler could hop threads: measured on one core, 65 us of
    // CPU per small request against 38 us). m_io also runs the acceptor, signals and shutdown.
    boost::asio::io_context m_io;
    std::vector<std::unique_ptr<boost::asio::io_context>> m_more_io;
    std::atomic<unsigned> m_next_loop{0};
    boost::asio::ip::tcp::acceptor m_acceptor;
    // After the loops: destroyed before them, with the sockets they still hold. m_parking[0]
    // belongs to m_io, m_parking[i] to m_more_io[i - 1].
    std::vector<std::unique_ptr<ParkingLot>> m_parking;
    std::unique_ptr<boost::asio::ssl::context> m_tls;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_draining{false};
    std::mutex m_conn_mutex;
    std::set<ConnectionBase*> m_connections;
    std::mutex m_maint_mutex;
    std::condition_variable m_maint_cv;
    bool m_maint_stop = false;
    std::thread m_maintenance;
};

}  // namespace satload::server
