// Configuration of `satload serve`: every limit and timeout is named here with its unit.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ledger/split.h"

namespace satload::server {

struct ServerOptions {
    std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
    std::string data_dir = "./var";          // SQLite metadata, blobs, admin token, logs
    std::string db_url;                      // postgresql://…: every store in PostgreSQL
    std::string blobs_url;                   // s3://BUCKET?endpoint=…: blobs in a bucket
    std::string public_url;                  // base of links; default http://<listen>
    std::string tls_cert_file;               // PEM; with tls_key_file enables HTTPS
    std::string tls_key_file;
    bool trust_proxy = false;                // honour X-Forwarded-For from the peer
    std::string web_root;                    // the built web app; empty: "web" beside the binary

    std::uint64_t max_upload_bytes = 64ull << 30;   // largest Upload-Length accepted (413 above)
    std::uint64_t default_quota_bytes = 100ull << 30;  // storage quota of each account
    bool anonymous_uploads = true;                  // uploads without an account (--no-anonymous)
    std::uint64_t anonymous_max_upload_bytes = 2ull << 30;  // largest anonymous upload (413 above)
    std::chrono::seconds anonymous_file_lifetime{30 * 24 * 3600};  // anonymous files expire
    ledger::SplitShares split;                      // download payment: uploader/referrer/platform
    std::chrono::seconds grant_lifetime{24 * 3600}; // a paid download's grant lasts this long
    std::uint32_t strikes_to_suspend = 3;           // upheld takedowns that suspend an account
    std::uint64_t max_chunk_bytes = 256ull << 20;   // largest single PATCH/POST body
    std::uint32_t max_header_bytes = 16 * 1024;     // all request headers together (431 above)
    std::uint32_t max_connections = 20000;
    std::chrono::seconds upload_expiry{24 * 3600};  // an unfinished upload lives this long
    std::chrono::seconds header_timeout{30};        // to receive a request's headers
    std::chrono::seconds idle_timeout{120};         // keep-alive between requests
    std::chrono::seconds body_stall_timeout{60};    // no body bytes moved for this long
    std::chrono::seconds shutdown_grace{10};        // SIGTERM: finish transfers this long
    std::chrono::seconds scrub_interval{6 * 3600};  // background digest check of blobs
    unsigned threads = 0;                           // 0: hardware concurrency
    // On-chain deposits and withdrawals (onchain_api.cpp); off without a node URL.
    std::string node_url;                           // http://user:password@host:port/
    std::string network = "main";                   // main | test | regtest
    std::uint32_t confirmations = 3;                // a deposit is credited at this many
    std::string seed_passphrase_file;               // else env SATLOAD_SEED_PASSPHRASE
    double fallback_feerate_sat_per_vb = 0;         // when the node has no estimate; 0: refuse
    std::int64_t max_withdrawal_sat = 10'000'000;   // above: waits for `satload admin approve`
    std::int64_t daily_withdrawal_sat = 50'000'000; // hot-wallet total per 24 h, same rule
};

// Runs the server until SIGINT/SIGTERM; returns the process exit code. Prints
// "listening on http://HOST:PORT" on stderr once accepting, which tests wait for.
int run_server(const ServerOptions& options);

}  // namespace satload::server
