// `satload account [register|login|logout] ...`: zero-knowledge registration and login (keys
// derived here), the session kept in SATLOAD_HOME/session.json, and the account's usage.
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <string>
#include <termios.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "cli/commands.h"
#include "client/account.h"
#include "client/files.h"
#include "client/progress.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

// The longest password line read from the terminal (Argon2id refuses longer ones anyway).
constexpr std::size_t kMaxPasswordLineBytes = 1024;
constexpr std::string_view kPasswordEnv = "SATLOAD_PASSWORD";

struct AccountArgs {
    std::string username;
    std::string server;
    bool json = false;
};

// The password from SATLOAD_PASSWORD, else from the terminal without echo. nullopt (after a
// message) when neither is available.
std::optional<std::string> read_password(bool confirm) {
    if (const char* env = std::getenv(std::string(kPasswordEnv).c_str()); env != nullptr && *env != '\0') {
        return std::string(env);
    }
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        print_error("no terminal to ask for the password: set SATLOAD_PASSWORD");
        return std::nullopt;
    }
    auto ask = [fd](std::string_view prompt) -> std::optional<std::string> {
        (void)::write(fd, prompt.data(), prompt.size());
        termios old{};
        const bool is_tty = ::tcgetattr(fd, &old) == 0;
        if (is_tty) {
            termios quiet = old;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            ::tcsetattr(fd, TCSAFLUSH, &quiet);
        }
        std::string line;
        char c = 0;
        bool ok = true;
        while (true) {
            const ssize_t n = ::read(fd, &c, 1);
            if (n != 1) { ok = !line.empty(); break; }
            if (c == '\n' || c == '\r') break;
            if (line.size() >= kMaxPasswordLineBytes) { ok = false; break; }
            line.push_back(c);
        }
        if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &old);
        (void)::write(fd, "\n", 1);
        if (!ok) {
            crypto::secure_wipe(line.data(), line.size());
            return std::nullopt;
        }
        return line;
    };
    auto password = ask("Password: ");
    if (password && confirm) {
        auto again = ask("Password (again): ");
        if (!again || *again != *password) {
            if (again) crypto::secure_wipe(again->data(), again->size());
            crypto::secure_wipe(password->data(), password->size());
            ::close(fd);
            print_error("the passwords differ");
            return std::nullopt;
        }
        crypto::secure_wipe(again->data(), again->size());
    }
    ::close(fd);
    if (!password || password->empty()) {
        print_error("no password given");
        return std::nullopt;
    }
    return password;
}

int run_register_or_login(const AccountArgs& args, bool registering) {
    auto server = client::parse_server_url(args.server.empty() ? default_server_url() : args.server);
    if (!server) {
        print_error(server.error().message);
        return kExitUsage;
    }
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }
    auto password = read_password(registering);
    if (!password) return kExitFailure;
    std::optional<client::Session> session;
    std::string recovery;
    if (registering) {
        auto r = client::register_account(*server, args.username, *password, {});
        crypto::secure_wipe(password->data(), password->size());
        if (!r) {
            print_error(r.error().message);
            return kExitFailure;
        }
        session = std::move(r->session);
        recovery = std::move(r->recovery_text);
    } else {
        auto r = client::login(*server, args.username, *password, {});
        crypto::secure_wipe(password->data(), password->size());
        if (!r) {
            print_error(r.error().message);
            return kExitFailure;
        }
        session = std::move(*r);
    }
    if (auto saved = client::save_session(*home, *session); !saved) {
        print_error(saved.error().message);
        return kExitFailure;
    }
    if (registering) {
        // The one result the user must keep: it is shown once and never stored.
        std::printf("recovery key (shown once; keep it safe, it restores the account if the password is lost):\n%s\n",
                    recovery.c_str());
        crypto::secure_wipe(recovery.data(), recovery.size());
    }
    std::printf("logged in as %s at %s\n", session->username.c_str(), session->server.text().c_str());
    return 0;
}

int run_usage(const AccountArgs& args) {
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }
    auto session = client::load_session(*home);
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    auto usage = client::account_usage(*session, {});
    if (!usage) {
        print_error(usage.error().message);
        return kExitFailure;
    }
    if (args.json) {
        boost::json::object o{{"username", usage->username},
                              {"server", session->server.text()},
                              {"used_bytes", usage->used_bytes},
                              {"quota_bytes", usage->quota_bytes}};
        std::printf("%s\n", boost::json::serialize(o).c_str());
    } else {
        std::printf("account: %s at %s\nused: %s of %s (%llu of %llu bytes)\n", usage->username.c_str(),
                    session->server.text().c_str(), client::format_bytes(usage->used_bytes).c_str(),
                    client::format_bytes(usage->quota_bytes).c_str(),
                    static_cast<unsigned long long>(usage->used_bytes),
                    static_cast<unsigned long long>(usage->quota_bytes));
    }
    return 0;
}

int run_logout() {
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }
    auto session = client::load_session(*home);
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    if (auto r = client::logout(*home, *session, {}); !r) {
        print_error(r.error().message);
        return kExitFailure;
    }
    std::printf("logged out %s\n", session->username.c_str());
    return 0;
}

}  // namespace

void add_account_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<AccountArgs>();
    CLI::App* cmd = app.add_subcommand(
        "account", "Your account: register, log in, and (with no subcommand) usage and quota.");
    cmd->add_flag("--json", args->json, "Print usage as JSON");
    cmd->require_subcommand(0, 1);
    for (const bool registering : {true, false}) {
        CLI::App* sub = cmd->add_subcommand(
            registering ? "register" : "login",
            registering ? "Create an account and log in (shows the recovery key once). The password "
                          "comes from a terminal prompt or SATLOAD_PASSWORD."
                        : "Log in; later commands use this server. The password comes from a "
                          "terminal prompt or SATLOAD_PASSWORD.");
        sub->add_option("USER", args->username, "Username (3-32 of a-z 0-9 _ -)")->required();
        sub->add_option("--server", args->server, "Server URL (default SATLOAD_SERVER or http://127.0.0.1:8080)");
        sub->callback([args, registering, &exit_code] { exit_code = run_register_or_login(*args, registering); });
    }
    cmd->add_subcommand("logout", "Revoke this session and forget it locally")
        ->callback([&exit_code] { exit_code = run_logout(); });
    add_earnings_subcommand(*cmd, exit_code);
    cmd->callback([args, cmd, &exit_code] {
        if (cmd->get_subcommands().empty()) exit_code = run_usage(*args);
    });
}

}  // namespace satload::cli
