// `satload ls [--json]`, `satload rm ID` and `satload rename ID NEWNAME`: the logged-in
// account's files, names and links decrypted locally with the master key; deletion and renaming
// (the name re-encrypted here) by the owner.
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/account.h"
#include "client/files.h"
#include "client/progress.h"

namespace satload::cli {
namespace {

int run_ls(bool json) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto files = client::list_owned_files(*session, {});
    if (!files) {
        print_error(files.error().message);
        return kExitFailure;
    }
    if (json) {
        boost::json::array out;
        for (const auto& f : *files) {
            out.push_back(boost::json::object{{"id", f.file_id},
                                              {"name", f.name},
                                              {"size_bytes", f.size_bytes},
                                              {"created", iso_time(f.created_s)},
                                              {"complete", f.complete},
                                              {"link", f.link}});
        }
        std::printf("%s\n", boost::json::serialize(out).c_str());
        return 0;
    }
    // One file per line, tab-separated so names with spaces stay one field:
    // id, size, date, name, link ("(incomplete)" for an unfinished upload).
    for (const auto& f : *files) {
        std::printf("%s\t%s\t%s\t%s\t%s\n", f.file_id.c_str(), client::format_bytes(f.size_bytes).c_str(),
                    iso_time(f.created_s).c_str(), client::printable(f.name, 255).c_str(),
                    f.complete ? f.link.c_str() : "(incomplete)");
    }
    return 0;
}

int run_rm(const std::string& id) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    if (auto r = client::delete_owned_file(*session, id, {}); !r) {
        print_error(r.error().message);
        return r.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    std::printf("deleted %s\n", id.c_str());
    return 0;
}

int run_rename(const std::string& id, const std::string& name) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto renamed = client::rename_owned_file(*session, id, name, {});
    if (!renamed) {
        print_error(renamed.error().message);
        return renamed.error().code == client::ErrorCode::bad_argument ? kExitUsage : kExitFailure;
    }
    std::printf("renamed %s to %s\n", id.c_str(),
                client::printable(renamed->name, client::kMaxNameBytes).c_str());
    return 0;
}

}  // namespace

void add_ls_commands(CLI::App& app, int& exit_code) {
    auto json = std::make_shared<bool>(false);
    CLI::App* ls = app.add_subcommand("ls", "List your files (names, sizes, dates, links) as the logged-in user");
    ls->add_flag("--json", *json, "Print a JSON array");
    ls->callback([json, &exit_code] { exit_code = run_ls(*json); });

    auto id = std::make_shared<std::string>();
    CLI::App* rm = app.add_subcommand("rm", "Delete one of your files and its stored data; its link stops working");
    rm->add_option("ID", *id, "File id (as `satload ls` shows it)")->required();
    rm->callback([id, &exit_code] { exit_code = run_rm(*id); });

    auto rename_id = std::make_shared<std::string>();
    auto new_name = std::make_shared<std::string>();
    CLI::App* rename = app.add_subcommand(
        "rename", "Rename one of your files (encrypted here); its link stays the same");
    rename->add_option("ID", *rename_id, "File id (as `satload ls` shows it)")->required();
    rename->add_option("NEWNAME", *new_name, "The new name (UTF-8, at most 255 bytes)")->required();
    rename->callback(
        [rename_id, new_name, &exit_code] { exit_code = run_rename(*rename_id, *new_name); });
}

}  // namespace satload::cli
