// `satload get LINK`: download, decrypt, verify and write atomically; prints the path written.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "client/download.h"
#include "client/link.h"
#include "client/progress.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

struct GetArgs {
    std::string link;
    std::string output;
    bool force = false;
    unsigned parallel = client::kDefaultParallelRanges;
    std::string max_price;
};

int run_get(GetArgs& args) {
    auto link = client::parse_link(args.link);
    crypto::secure_wipe(args.link.data(), args.link.size());
    if (!link) {
        print_error(link.error().message);
        return kExitUsage;
    }
    client::DownloadOptions options;
    if (!args.output.empty()) options.output = args.output;
    options.force = args.force;
    options.parallel = args.parallel;
    options.show_progress = client::stderr_is_terminal();
    options.notice = print_notice;
    auto result = client::download_file(*link, options);
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
        "get", "Download the file of LINK, decrypt and verify it, and write it atomically.\n"
               "Prints the path written. Rerun the same command to resume.");
    cmd->add_option("LINK", args->link, "The link, including its #secret")->required();
    cmd->add_option("-o,--output", args->output,
                    "Where to write (a file, or a directory for the file's own safe name)");
    cmd->add_flag("--force", args->force, "Overwrite an existing file");
    cmd->add_option("--parallel", args->parallel, "Ranges downloaded at once")
        ->check(CLI::Range(1u, client::kMaxParallelRanges))
        ->capture_default_str();
    cmd->add_option("--max-price", args->max_price,
                    "Most to pay (paid downloads are not supported yet: nothing is ever paid)");
    cmd->callback([args, &exit_code] { exit_code = run_get(*args); });
}

}  // namespace satload::cli
