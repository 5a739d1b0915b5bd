// `satload put FILE`: encrypt and upload, print the link as the last line of stdout.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "client/account.h"
#include "client/files.h"
#include "client/link_controls.h"
#include "client/progress.h"
#include "client/units.h"
#include "client/upload.h"
#include "crypto/account_keys.h"
#include "core/money.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

struct PutArgs {
    std::string file;
    std::string server;
    unsigned parallel = client::kDefaultParallelParts;
    std::string chunk_size = "8MiB";
    std::string price;
    std::string expire;
    std::string max_downloads;
};

// --expire, --max-downloads and --price as the upload asks for them; nullopt after printing
// what is wrong.
std::optional<client::UploadControls> parse_controls(const PutArgs& args) {
    client::UploadControls controls;
    if (!args.expire.empty()) {
        const auto lifetime = client::parse_duration(args.expire);
        if (!lifetime || lifetime->count() < 1) {
            print_error("--expire must be a duration like 30m, 12h or 7d");
            return std::nullopt;
        }
        controls.expires_in_s = lifetime->count();
    }
    if (!args.max_downloads.empty()) {
        const auto limit = client::parse_download_limit(args.max_downloads);
        if (!limit) {
            print_error("--max-downloads must be a whole number of at least 1");
            return std::nullopt;
        }
        controls.max_downloads = *limit;
    }
    if (!args.price.empty()) {
        const auto price = parse_amount(args.price);
        if (!price) {
            print_error("--price: " + std::string(money_error_message(price.error())) +
                        " (like 250sat, 1500msat or 0.0001btc)");
            return std::nullopt;
        }
        controls.price_msat = price->value;
    }
    return controls;
}

int run_put(const PutArgs& args) {
    const auto controls = parse_controls(args);
    if (!controls) return kExitUsage;
    const auto chunk = client::parse_size_bytes(args.chunk_size);
    if (!chunk || *chunk < client::kMinChunkBytes || *chunk > client::kMaxChunkBytes) {
        print_error("--chunk-size must be a size from 1KiB to 256MiB, like 8MiB");
        return kExitUsage;
    }
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }
    // Logged in: the upload is recorded as the user's own (listed by `ls`, counted against the
    // quota) on the logged-in server, unless --server names another one.
    auto session = client::load_session(*home);
    std::string server_text = args.server;
    if (server_text.empty()) server_text = session ? session->server.text() : default_server_url();
    auto server = client::parse_server_url(server_text);
    if (!server) {
        print_error(server.error().message);
        return kExitUsage;
    }
    const bool owned = session && session->server.text() == server->text();
    if (controls->price_msat > 0 && !owned) {
        print_error("--price needs an account: log in to " + server->text() + " first (satload account login)");
        return kExitFailure;
    }
    client::UploadOptions options;
    options.server = std::move(*server);
    options.state_dir = std::move(*home);
    options.parallel_parts = args.parallel;
    options.chunk_bytes = *chunk;
    options.show_progress = client::stderr_is_terminal();
    options.notice = print_notice;
    options.controls = *controls;
    const crypto::RandomSource random = crypto::system_random();  // outlives the upload
    if (owned) {
        options.session_token = session->token;
        options.wrap_owner_secret = [&](const crypto::FileSecret& secret) {
            return base64url_encode(crypto::wrap_file_secret(session->master_key, secret, random));
        };
    }
    auto result = client::upload_file(args.file, options);
    if (!result) {
        print_error(result.error().message);
        return kExitFailure;
    }
    std::string link = client::format_link(result->link);
    std::printf("%s\n", link.c_str());
    const bool flushed = std::fflush(stdout) == 0;
    crypto::secure_wipe(link.data(), link.size());
    if (!flushed) {
        print_error("cannot write the link to stdout");
        return kExitFailure;
    }
    return 0;
}

}  // namespace

void add_put_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<PutArgs>();
    CLI::App* cmd = app.add_subcommand(
        "put", "Encrypt FILE and upload it. Prints the link (with its #secret) as the last line.\n"
               "Rerun the same command to resume an interrupted upload.");
    cmd->add_option("FILE", args->file, "The file to upload")->required();
    cmd->add_option("--server", args->server,
                    "Server base URL (default: the logged-in server, else $SATLOAD_SERVER, else "
                    "http://127.0.0.1:8080)");
    cmd->add_option("--parallel", args->parallel, "Parts uploaded at once (small files use one)")
        ->check(CLI::Range(1u, client::kMaxParallelParts))
        ->capture_default_str();
    cmd->add_option("--chunk-size", args->chunk_size, "Bytes per request, e.g. 8MiB")
        ->capture_default_str();
    cmd->add_option("--price", args->price,
                    "Price per download, e.g. 250sat, 1500msat, 0.0001btc (needs a logged-in account)");
    cmd->add_option("--expire", args->expire, "The link stops working this long after the upload, e.g. 7d, 12h");
    cmd->add_option("--max-downloads", args->max_downloads, "The link stops working after N downloads");
    cmd->callback([args, &exit_code] { exit_code = run_put(*args); });
}

}  // namespace satload::cli
