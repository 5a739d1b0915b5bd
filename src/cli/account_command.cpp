// `satload account [register|login|logout|passwd|recover|token] ...`: zero-knowledge
// registration, login, password change and recovery (keys derived here), the session kept in
// SATLOAD_HOME/session.json, API tokens, and the account's usage.
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/account.h"
#include "client/files.h"
#include "client/progress.h"
#include "crypto/account_keys.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

// The longest password line read from the terminal (Argon2id refuses longer ones anyway).
constexpr std::size_t kMaxPasswordLineBytes = 1024;
constexpr std::string_view kPasswordEnv = "SATLOAD_PASSWORD";
constexpr std::string_view kNewPasswordEnv = "SATLOAD_NEW_PASSWORD";
constexpr std::string_view kRecoveryKeyEnv = "SATLOAD_RECOVERY_KEY";

struct AccountArgs {
    std::string username;
    std::string server;
    bool json = false;
    std::string token_name;
    std::int64_t token_id = 0;
};

// What to ask for: the variable that supplies it non-interactively, the prompt, whether to
// ask twice, and its name in messages ("password", "new password", "recovery key").
struct SecretPrompt {
    std::string_view env;
    std::string_view prompt;
    bool confirm = false;
    std::string_view what;
};

// One line from the terminal without echo; nullopt on end of input or an overlong line.
std::optional<std::string> ask_line(int fd, std::string_view prompt) {
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
        if (n != 1) {
            ok = !line.empty();
            break;
        }
        if (c == '\n' || c == '\r') break;
        if (line.size() >= kMaxPasswordLineBytes) {
            ok = false;
            break;
        }
        line.push_back(c);
    }
    if (is_tty) ::tcsetattr(fd, TCSAFLUSH, &old);
    (void)::write(fd, "\n", 1);
    if (!ok) {
        crypto::secure_wipe(line.data(), line.size());
        return std::nullopt;
    }
    return line;
}

// The secret from its environment variable, else from the terminal without echo. nullopt
// (after a message) when neither gives one.
std::optional<std::string> read_secret(const SecretPrompt& p) {
    if (const char* env = std::getenv(std::string(p.env).c_str()); env != nullptr && *env != '\0') {
        return std::string(env);
    }
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        print_error("no terminal to ask for the " + std::string(p.what) + ": set " +
                    std::string(p.env));
        return std::nullopt;
    }
    auto secret = ask_line(fd, p.prompt);
    if (secret && p.confirm) {
        auto again =
            ask_line(fd, std::string(p.prompt.substr(0, p.prompt.find(':'))) + " (again): ");
        if (!again || *again != *secret) {
            if (again) crypto::secure_wipe(again->data(), again->size());
            crypto::secure_wipe(secret->data(), secret->size());
            ::close(fd);
            print_error("the " + std::string(p.what) + "s differ");
            return std::nullopt;
        }
        crypto::secure_wipe(again->data(), again->size());
    }
    ::close(fd);
    if (!secret || secret->empty()) {
        print_error("no " + std::string(p.what) + " given");
        return std::nullopt;
    }
    return secret;
}

std::optional<std::string> read_password(bool confirm) {
    return read_secret(SecretPrompt{kPasswordEnv, "Password: ", confirm, "password"});
}

std::optional<std::string> read_new_password() {
    return read_secret(SecretPrompt{kNewPasswordEnv, "New password: ", true, "new password"});
}

// Wipes a secret string when it goes out of scope.
struct WipeOnExit {
    std::optional<std::string>& secret;
    ~WipeOnExit() {
        if (secret) crypto::secure_wipe(secret->data(), secret->size());
    }
};

int run_register_or_login(const AccountArgs& args, bool registering) {
    auto server =
        client::parse_server_url(args.server.empty() ? default_server_url() : args.server);
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
        std::printf(
            "recovery key (shown once; keep it safe, it restores the account if the password is "
            "lost):\n%s\n",
            recovery.c_str());
        crypto::secure_wipe(recovery.data(), recovery.size());
    }
    std::printf("logged in as %s at %s\n", session->username.c_str(),
                session->server.text().c_str());
    return 0;
}

int run_usage(const AccountArgs& args) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
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
        std::printf("account: %s at %s\nused: %s of %s (%llu of %llu bytes)\n",
                    usage->username.c_str(), session->server.text().c_str(),
                    client::format_bytes(usage->used_bytes).c_str(),
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
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    if (session->token_only) {
        // Logging out would revoke the script's token and delete an unrelated session file.
        print_error(
            "SATLOAD_TOKEN is set: logout ends login sessions; revoke API tokens with "
            "satload account token rm ID");
        return kExitUsage;
    }
    if (auto r = client::logout(*home, *session, {}); !r) {
        print_error(r.error().message);
        return kExitFailure;
    }
    std::printf("logged out %s\n", session->username.c_str());
    return 0;
}

int run_passwd() {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    if (session->token_only) {
        print_error("changing the password needs a login session, not SATLOAD_TOKEN: unset it");
        return kExitUsage;
    }
    auto current = read_secret(SecretPrompt{kPasswordEnv, "Current password: ", false, "password"});
    WipeOnExit wipe_current{current};
    if (!current) return kExitFailure;
    auto next = read_new_password();
    WipeOnExit wipe_next{next};
    if (!next) return kExitFailure;
    if (auto r = client::change_password(*session, *current, *next, {}); !r) {
        print_error(r.error().message);
        return kExitFailure;
    }
    std::printf("password changed for %s; your other sessions were logged out\n",
                session->username.c_str());
    return 0;
}

int run_recover(const AccountArgs& args) {
    auto server =
        client::parse_server_url(args.server.empty() ? default_server_url() : args.server);
    if (!server) {
        print_error(server.error().message);
        return kExitUsage;
    }
    auto home = client::satload_home();
    if (!home) {
        print_error(home.error().message);
        return kExitFailure;
    }
    auto recovery =
        read_secret(SecretPrompt{kRecoveryKeyEnv, "Recovery key: ", false, "recovery key"});
    WipeOnExit wipe_recovery{recovery};
    if (!recovery) return kExitFailure;
    // A typo is caught by the key's checksum before the new password is asked for.
    if (!crypto::recovery_key_from_text(*recovery)) {
        print_error("that is not a recovery key (56 characters in groups of 8; check for typos)");
        return kExitUsage;
    }
    auto password = read_new_password();
    WipeOnExit wipe_password{password};
    if (!password) return kExitFailure;
    auto session = client::recover_account(*server, args.username, *recovery, *password, {});
    if (!session) {
        print_error(session.error().message);
        return session.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    if (auto saved = client::save_session(*home, *session); !saved) {
        print_error(saved.error().message);
        return kExitFailure;
    }
    print_notice("every other session and every API token of this account was revoked");
    std::printf("password reset; logged in as %s at %s\n", session->username.c_str(),
                session->server.text().c_str());
    return 0;
}

int run_token_create(const AccountArgs& args) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto created = client::create_api_token(*session, args.token_name, {});
    if (!created) {
        print_error(created.error().message);
        return created.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    print_notice("the token is shown once; scripts use it as SATLOAD_TOKEN (with SATLOAD_SERVER)");
    std::printf("API token %lld (%s):\n%s\n", static_cast<long long>(created->info.token_id),
                client::printable(created->info.name, client::kMaxTokenChars).c_str(),
                created->token.c_str());
    const bool flushed = std::fflush(stdout) == 0;
    crypto::secure_wipe(created->token.data(), created->token.size());
    return flushed ? 0 : kExitFailure;
}

int run_token_ls(const AccountArgs& args) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto tokens = client::list_api_tokens(*session, {});
    if (!tokens) {
        print_error(tokens.error().message);
        return kExitFailure;
    }
    if (args.json) {
        boost::json::array out;
        for (const auto& t : *tokens) {
            out.push_back(boost::json::object{
                {"id", t.token_id}, {"name", t.name}, {"created", iso_time(t.created_s)}});
        }
        std::printf("%s\n", boost::json::serialize(out).c_str());
        return 0;
    }
    // id, creation date, name: tab-separated so names with spaces stay one field.
    for (const auto& t : *tokens) {
        std::printf("%lld\t%s\t%s\n", static_cast<long long>(t.token_id),
                    iso_time(t.created_s).c_str(),
                    client::printable(t.name, client::kMaxTokenChars).c_str());
    }
    return 0;
}

int run_token_rm(const AccountArgs& args) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    if (auto r = client::revoke_api_token(*session, args.token_id, {}); !r) {
        print_error(r.error().message);
        return r.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    std::printf("revoked API token %lld\n", static_cast<long long>(args.token_id));
    return 0;
}

}  // namespace

void add_account_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<AccountArgs>();
    CLI::App* cmd = app.add_subcommand(
        "account",
        "Your account: register, log in, password, recovery, API tokens, and (with no "
        "subcommand) usage and quota.");
    cmd->add_flag("--json", args->json, "Print usage as JSON");
    cmd->require_subcommand(0, 1);
    for (const bool registering : {true, false}) {
        CLI::App* sub = cmd->add_subcommand(
            registering ? "register" : "login",
            registering
                ? "Create an account and log in (shows the recovery key once). The password "
                  "comes from a terminal prompt or SATLOAD_PASSWORD."
                : "Log in; later commands use this server. The password comes from a "
                  "terminal prompt or SATLOAD_PASSWORD.");
        sub->add_option("USER", args->username, "Username (3-32 of a-z 0-9 _ -)")->required();
        sub->add_option("--server", args->server,
                        "Server URL (default SATLOAD_SERVER or http://127.0.0.1:8080)");
        sub->callback([args, registering, &exit_code] {
            exit_code = run_register_or_login(*args, registering);
        });
    }
    cmd->add_subcommand("logout", "Revoke this session and forget it locally")
        ->callback([&exit_code] { exit_code = run_logout(); });
    cmd->add_subcommand(
           "passwd",
           "Change the password (files stay as they are; other sessions are logged out). "
           "Passwords come from terminal prompts or SATLOAD_PASSWORD and SATLOAD_NEW_PASSWORD.")
        ->callback([&exit_code] { exit_code = run_passwd(); });
    CLI::App* recover = cmd->add_subcommand(
        "recover",
        "Set a new password with the recovery key shown at registration, and log in; every "
        "session and API token is revoked. The key comes from a prompt or SATLOAD_RECOVERY_KEY, "
        "the new password from a prompt or SATLOAD_NEW_PASSWORD.");
    recover->add_option("USER", args->username, "Username")->required();
    recover->add_option("--server", args->server,
                        "Server URL (default SATLOAD_SERVER or http://127.0.0.1:8080)");
    recover->callback([args, &exit_code] { exit_code = run_recover(*args); });

    CLI::App* token = cmd->add_subcommand("token",
                                          "API tokens for scripts (SATLOAD_TOKEN): they "
                                          "authenticate but cannot decrypt names or links");
    token->require_subcommand(1);
    CLI::App* create =
        token->add_subcommand("create", "Create an API token; prints it last (shown once)");
    create->add_option("NAME", args->token_name, "A label (1-64 printable ASCII characters)")
        ->required();
    create->callback([args, &exit_code] { exit_code = run_token_create(*args); });
    CLI::App* list = token->add_subcommand("ls", "List your API tokens (id, created, name)");
    list->add_flag("--json", args->json, "Print a JSON array");
    list->callback([args, &exit_code] { exit_code = run_token_ls(*args); });
    CLI::App* remove = token->add_subcommand("rm", "Revoke an API token");
    remove->add_option("ID", args->token_id, "Token id (as `satload account token ls` shows it)")
        ->required()
        ->check(CLI::PositiveNumber);
    remove->callback([args, &exit_code] { exit_code = run_token_rm(*args); });
    add_earnings_subcommand(*cmd, exit_code);
    cmd->callback([args, cmd, &exit_code] {
        if (cmd->get_subcommands().empty()) exit_code = run_usage(*args);
    });
}

}  // namespace satload::cli
