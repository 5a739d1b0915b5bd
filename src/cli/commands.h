// The subcommands of `satload`. Each add_* registers its options on the app and a callback
// that runs the command and stores its exit status in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <string_view>

namespace satload::cli {

inline constexpr std::string_view kDefaultServerUrl = "http://127.0.0.1:8080";
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

void add_serve_command(CLI::App& app, int& exit_code);
void add_put_command(CLI::App& app, int& exit_code);
void add_get_command(CLI::App& app, int& exit_code);
void add_admin_command(CLI::App& app, int& exit_code);
void add_account_command(CLI::App& app, int& exit_code);
// `ls` and `rm`.
void add_ls_commands(CLI::App& app, int& exit_code);
// `set ID`: a file's link controls and price, after upload.
void add_set_command(CLI::App& app, int& exit_code);
// `wallet balance|history|deposit|withdraw`.
void add_wallet_command(CLI::App& app, int& exit_code);
// `account earnings` (registered by add_account_command).
void add_earnings_subcommand(CLI::App& account, int& exit_code);
// `share LINK`: the link with the caller's referral code.
void add_share_command(CLI::App& app, int& exit_code);
// `report LINK`: an abuse report to the link's server (the key is not sent).
void add_report_command(CLI::App& app, int& exit_code);

// One line on stderr: "satload: <message>".
void print_error(std::string_view message);
void print_notice(std::string_view message);

// SATLOAD_SERVER, else kDefaultServerUrl (callers with a login session use its server first).
[[nodiscard]] std::string default_server_url();

}  // namespace satload::cli
