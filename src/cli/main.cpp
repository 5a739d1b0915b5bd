// Entry point of the `satload` command: CLI11 parsing and dispatch to the subcommands.
#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
    // A peer closing a socket must be an error code, not a silent death.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"satload: end-to-end encrypted file hosting.\n"
                 "Files are encrypted before they leave your machine; the key travels only in "
                 "the link's #fragment.",
                 "satload"};
    app.set_version_flag("--version", "satload 0.1.0");
    app.require_subcommand(1);
    app.set_config("--config", "", "Read options from a TOML/INI file ([serve] section for serve)");
    // A misspelt key in a config file is an error, not a silently ignored setting.
    app.allow_config_extras(CLI::config_extras_mode::error);
    int exit_code = 0;
    satload::cli::add_serve_command(app, exit_code);
    satload::cli::add_put_command(app, exit_code);
    satload::cli::add_get_command(app, exit_code);
    satload::cli::add_admin_command(app, exit_code);
    satload::cli::add_account_command(app, exit_code);
    satload::cli::add_ls_commands(app, exit_code);
    satload::cli::add_set_command(app, exit_code);
    satload::cli::add_wallet_command(app, exit_code);
    satload::cli::add_share_command(app, exit_code);
    satload::cli::add_report_command(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version are successes; every other parse error is a usage error (2),
        // so scripts can tell "you called me wrong" from "it failed".
        const int code = app.exit(e);
        return code == 0 ? 0 : satload::cli::kExitUsage;
    } catch (const std::exception& e) {
        satload::cli::print_error(e.what());
        return satload::cli::kExitFailure;
    }
    return exit_code;
}
