// `satload get LINK`: download, decrypt, verify and write atomically; prints the path written.
// A priced file is paid from the logged-in wallet only with consent (--max-price, or a y/N
// prompt on a terminal); the grant is kept under SATLOAD_HOME so the next download of the same
// file pays nothing.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "client/account.h"
#include "client/download.h"
#include "client/files.h"
#include "client/link.h"
#include "client/paywall.h"
#include "client/progress.h"
#include "client/wallet.h"
#include "core/money.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

// Longest answer to the y/N prompt we read.
constexpr std::size_t kMaxPromptLineBytes = 64;

struct GetArgs {
    std::string link;
    std::string output;
    bool force = false;
    unsigned parallel = client::kDefaultParallelRanges;
    std::string max_price;
};

// The user's answer to "pay?" on the terminal: true only for y or yes.
bool ask_to_pay(const std::string& price) {
    std::fprintf(stderr, "satload: pay %s from your wallet? [y/N] ", price.c_str());
    std::fflush(stderr);
    std::string line;
    char c = 0;
    while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n' && c != '\r') {
        if (line.size() < kMaxPromptLineBytes) line.push_back(c);
    }
    return line == "y" || line == "Y" || line == "yes" || line == "YES" || line == "Yes";
}

// Consent to pay: --max-price, else a prompt on a terminal, else none.
client::ClientResult<std::int64_t> consent(const client::PaymentChallenge& c,
                                           std::optional<Msat> max_price) {
    const std::string price = client::amount_text(c.price_msat);
    if (max_price) {
        if (c.price_msat > max_price->value) {
            return client::client_error(client::ErrorCode::payment_required,
                                        "not paid: the price " + price + " is above --max-price " +
                                            client::amount_text(max_price->value));
        }
        return max_price->value;
    }
    if (::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1) {
        if (ask_to_pay(price)) return c.price_msat;
        return client::client_error(client::ErrorCode::payment_required, "not paid: you declined");
    }
    return client::client_error(client::ErrorCode::payment_required,
                                "not paid: to pay it, pass --max-price " +
                                    format_sat(Msat{c.price_msat}) +
                                    " (or more), or run this on a terminal to be asked");
}

int run_get(GetArgs& args) {
    auto link = client::parse_link(args.link);
    crypto::secure_wipe(args.link.data(), args.link.size());
    if (!link) {
        print_error(link.error().message);
        return kExitUsage;
    }
    std::optional<Msat> max_price;
    if (!args.max_price.empty()) {
        const auto parsed = parse_amount(args.max_price);
        if (!parsed) {
            print_error("--max-price: " + std::string(money_error_message(parsed.error())) +
                        " (like 250sat, 1500msat or 0.0001btc)");
            return kExitUsage;
        }
        max_price = *parsed;
    }
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }

    // The payer: the session of the link's server, if any (a session elsewhere cannot pay here).
    client::PaidAccess access;
    access.home = *home;
    access.server = link->server.text();
    if (auto session = client::load_session(*home);
        session && session->server.text() == access.server) {
        access.session = std::move(*session);
    }
    access.consent = [max_price](const client::PaymentChallenge& c) {
        return consent(c, max_price);
    };
    access.notice = print_notice;
    client::DownloadAuthorizer authorizer(link->file_id, std::move(access));

    client::DownloadOptions options;
    if (!args.output.empty()) options.output = args.output;
    options.force = args.force;
    options.parallel = args.parallel;
    options.show_progress = client::stderr_is_terminal();
    options.notice = print_notice;
    options.authorization = authorizer.initial();
    options.on_refused = [&authorizer](const client::HttpResponse& response,
                                       std::string_view sent) {
        return authorizer.refused(response, sent);
    };
    auto result = client::download_file(*link, options);
    crypto::secure_wipe(options.authorization.data(), options.authorization.size());
    if (!result) {
        print_error(result.error().message);
        return kExitFailure;
    }
    std::printf("%s\n", result->path.c_str());
    if (std::fflush(stdout) != 0) {
        print_error("cannot write to stdout");
        return kExitFailure;
    }
    return 0;
}

}  // namespace

void add_get_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = app.add_subcommand(
        "get",
        "Download the file of LINK, decrypt and verify it, and write it atomically.\n"
        "Prints the path written. Rerun the same command to resume. A priced file is paid\n"
        "from your wallet only with consent: --max-price, or a y/N prompt on a terminal.");
    cmd->add_option("LINK", args->link, "The link, including its #secret")->required();
    cmd->add_option("-o,--output", args->output,
                    "Where to write (a file, or a directory for the file's own safe name)");
    cmd->add_flag("--force", args->force, "Overwrite an existing file");
    cmd->add_option("--parallel", args->parallel, "Ranges downloaded at once")
        ->check(CLI::Range(1u, client::kMaxParallelRanges))
        ->capture_default_str();
    cmd->add_option(
        "--max-price", args->max_price,
        "Pay a priced file up to this much without asking, e.g. 1000sat, 1500msat, 0.0001btc");
    cmd->callback([args, &exit_code] { exit_code = run_get(*args); });
}

}  // namespace satload::cli
