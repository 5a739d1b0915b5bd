// `satload report LINK --category C --reason TEXT [--contact C] [--evidence TEXT]`: reports a
// link to its server's operator and prints the reference. The link's #fragment (its key) is
// cut off here: it never leaves this machine.
#include <boost/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "client/api.h"
#include "client/http.h"
#include "client/url.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::cli {
namespace {

namespace json = boost::json;

struct ReportArgs {
    std::string link;
    std::string category;
    std::string reason;
    std::string contact;
    std::string evidence;
};

int run_report(ReportArgs& args) {
    const std::size_t hash = args.link.find('#');
    const std::string link = args.link.substr(0, hash);
    crypto::secure_wipe(args.link.data(), args.link.size());
    const std::size_t at = link.rfind("/f/");
    if (at == std::string::npos) {
        print_error("LINK must be a satload link (<server>/f/<id>#…)");
        return kExitUsage;
    }
    const std::string file_id = link.substr(at + 3, link.find('?', at) == std::string::npos
                                                        ? std::string::npos
                                                        : link.find('?', at) - at - 3);
    if (!is_file_id(file_id)) {
        print_error("LINK names no valid file id");
        return kExitUsage;
    }
    auto server = client::parse_server_url(link.substr(0, at));
    if (!server) {
        print_error("LINK has a bad server URL: " + server.error().message);
        return kExitUsage;
    }
    json::object body;
    body["link"] = link;
    body["category"] = args.category;
    body["reason"] = args.reason;
    if (!args.contact.empty()) body["contact"] = args.contact;
    if (!args.evidence.empty()) body["evidence"] = args.evidence;
    const std::string text = json::serialize(body);
    client::HttpRequest req;
    req.method = boost::beast::http::verb::post;
    req.target = server->target("/api/v1/reports");
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = as_bytes(text);
    client::HttpClient http;
    auto res = http.send(server->endpoint, req);
    if (!res) {
        print_error("the server at " + server->text() + " failed: " + res.error().message);
        return kExitFailure;
    }
    if (!res->ok()) {
        print_error("the report was refused: " + client::problem_detail(*res));
        return kExitFailure;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(res->body, ec);
    const json::value* reference = (!ec && v.is_object()) ? v.as_object().if_contains("reference") : nullptr;
    if (reference == nullptr || !reference->is_string()) {
        print_error("the server's answer is malformed");
        return kExitFailure;
    }
    print_notice("reported; keep this reference:");
    std::printf("%s\n", client::printable(std::string_view(reference->as_string()), 64).c_str());
    return std::fflush(stdout) == 0 ? 0 : kExitFailure;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ReportArgs>();
    CLI::App* cmd = app.add_subcommand(
        "report", "Report a link to its server's operator (copyright, malware, abuse, other); the "
                  "link's key is not sent");
    cmd->add_option("LINK", args->link, "The link")->required();
    cmd->add_option("--category", args->category, "copyright, malware, abuse or other")
        ->required()
        ->check(CLI::IsMember({"copyright", "malware", "abuse", "other"}));
    cmd->add_option("--reason", args->reason, "What is wrong with it")->required();
    cmd->add_option("--contact", args->contact, "How the operator can reach you");
    cmd->add_option("--evidence", args->evidence, "Supporting text (e.g. where the original is)");
    cmd->callback([args, &exit_code] { exit_code = run_report(*args); });
}

}  // namespace satload::cli
