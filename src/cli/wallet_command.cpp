// `satload wallet balance|history|deposit|withdraw`: the logged-in user's wallet. History shows
// receipts: the legs of one payment as one line with its split (uploader, referrer, platform).
// Deposits print a BIP21 URI and the address (last), with a QR code on a terminal; withdrawals
// print the txid last (or the id of a withdrawal waiting for the operator's approval).
#include <boost/json.hpp>
#include <qrencode.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/logged_in.h"
#include "client/wallet.h"
#include "core/money.h"

namespace satload::cli {
namespace {

namespace json = boost::json;

// White space around a QR code, in modules (the standard asks for 4; 2 is enough on screen).
constexpr int kQrQuietModules = 2;

struct WalletArgs {
    bool json = false;
    std::size_t limit = client::kDefaultHistoryReceipts;
    std::int64_t before = 0;
    std::string address;
    std::string amount;
    std::string request_key;  // withdraw: the Idempotency-Key (empty: a new one)
};

std::string iso_time(std::int64_t unix_s) {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

int flush_stdout() {
    if (std::fflush(stdout) != 0) {
        print_error("cannot write to stdout");
        return kExitFailure;
    }
    return 0;
}

int run_balance(const WalletArgs& args) {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto b = client::wallet_balance(*session, {});
    if (!b) {
        print_error(b.error().message);
        return kExitFailure;
    }
    if (args.json) {
        const json::object o{{"balance_msat", b->balance_msat},
                             {"available_msat", b->available_msat},
                             {"pending_in_msat", b->pending_in_msat},
                             {"pending_out_msat", b->pending_out_msat}};
        std::printf("%s\n", json::serialize(o).c_str());
        return flush_stdout();
    }
    std::printf("balance:     %s\n", client::amount_text(b->balance_msat).c_str());
    std::printf("available:   %s\n", client::amount_text(b->available_msat).c_str());
    if (b->pending_in_msat != 0)
        std::printf("pending in:  %s\n", client::amount_text(b->pending_in_msat).c_str());
    if (b->pending_out_msat != 0)
        std::printf("pending out: %s\n", client::amount_text(b->pending_out_msat).c_str());
    return flush_stdout();
}

json::object receipt_json(const client::Receipt& r) {
    json::object o;
    o["group"] = r.group;
    o["seq"] = r.seq;
    o["time"] = r.time_s;
    o["kind"] = r.kind;
    o["amount_msat"] = r.amount_msat;
    if (!r.file_id.empty()) o["file_id"] = r.file_id;
    if (!r.memo.empty()) o["memo"] = r.memo;
    if (r.pending) o["pending"] = true;
    if (r.paid_download) {
        o["split"] = json::object{{"uploader_msat", r.uploader_msat},
                                  {"referrer_msat", r.referrer_msat},
                                  {"platform_msat", r.platform_msat}};
    }
    json::array legs;
    for (const auto& e : r.legs) {
        json::object leg{
            {"transfer_id", e.transfer_id}, {"kind", e.kind}, {"amount_msat", e.amount_msat}};
        if (e.pending) leg["pending"] = true;
        legs.push_back(std::move(leg));
    }
    o["legs"] = std::move(legs);
    return o;
}

int run_history(const WalletArgs& args) {
    if (args.limit < 1 || args.limit > client::kMaxHistoryReceipts) {
        print_error("--limit must be 1 to " + std::to_string(client::kMaxHistoryReceipts));
        return kExitUsage;
    }
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto page = client::wallet_receipts(*session, args.before, args.limit, {});
    if (!page) {
        print_error(page.error().message);
        return kExitFailure;
    }
    if (args.json) {
        json::array out;
        for (const auto& r : page->receipts) out.push_back(receipt_json(r));
        std::printf("%s\n", json::serialize(out).c_str());
    } else {
        // One receipt per line, tab-separated: time, amount, what it was (with the split).
        for (const auto& r : page->receipts) {
            std::printf("%s\t%s\t%s\n", iso_time(r.time_s).c_str(),
                        client::amount_text(r.amount_msat, true).c_str(),
                        client::describe_receipt(r).c_str());
        }
        if (page->receipts.empty()) print_notice("no movements in this wallet yet");
    }
    if (page->more && !page->receipts.empty()) {
        print_notice("older receipts: satload wallet history --before " +
                     std::to_string(page->receipts.back().seq));
    }
    return flush_stdout();
}

// The QR code of `text` in half-block characters (two module rows per line), light modules
// drawn, as `qrencode -t UTF8` does for dark terminals. Empty when it cannot be encoded.
std::string qr_text(const std::string& text) {
    QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (code == nullptr) return {};
    const int width = code->width;
    const int size = width + 2 * kQrQuietModules;
    auto light = [&](int x, int y) {
        x -= kQrQuietModules;
        y -= kQrQuietModules;
        if (x < 0 || y < 0 || x >= width || y >= width) return true;
        return (code->data[y * width + x] & 1) == 0;
    };
    std::string out;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; ++x) {
            const bool top = light(x, y);
            const bool bottom = y + 1 < size ? light(x, y + 1) : false;
            out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        out += '\n';
    }
    QRcode_free(code);
    return out;
}

int run_deposit() {
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    auto d = client::deposit_address(*session, {});
    if (!d) {
        print_error(d.error().message);
        return kExitFailure;
    }
    if (::isatty(STDOUT_FILENO) == 1) std::fputs(qr_text(d->uri).c_str(), stdout);
    std::printf("%s\n%s\n", d->uri.c_str(), d->address.c_str());
    return flush_stdout();
}

int run_withdraw(const WalletArgs& args) {
    const auto amount = parse_amount(args.amount);
    if (!amount || amount->value <= 0 || amount->value % kMsatPerSat != 0) {
        print_error("AMOUNT must be a positive whole number of sats, like 50000sat or 0.001btc");
        return kExitUsage;
    }
    auto session = logged_in_session();
    if (!session) return kExitFailure;
    // Made once, so this run's retries (and a later run given it) make at most one withdrawal.
    const std::string key = args.request_key.empty() ? client::new_request_key() : args.request_key;
    auto w = client::withdraw(*session, args.address, amount->value, key, {});
    if (!w) {
        print_error(w.error().message);
        return kExitFailure;
    }
    if (w->status == "awaiting_approval") {
        print_notice("above the hot-wallet limits: waits for the operator (satload admin approve " + w->id + ")");
        std::printf("%s\n", w->id.c_str());
        return flush_stdout();
    }
    if (const auto not_going = client::withdrawal_not_going_out(*w, key)) {
        print_error(*not_going);
        return kExitFailure;
    }
    std::printf("sent:    %s\nfee:     %s\n", client::amount_text(w->amount_msat).c_str(),
                client::amount_text(w->fee_msat).c_str());
    std::printf("%s\n", w->txid.c_str());
    return flush_stdout();
}

}  // namespace

void add_wallet_command(CLI::App& app, int& exit_code) {
    CLI::App* wallet = app.add_subcommand(
        "wallet", "Your wallet (in msat): balance, history, deposits, withdrawals");
    wallet->require_subcommand(1);

    auto balance_args = std::make_shared<WalletArgs>();
    CLI::App* balance =
        wallet->add_subcommand("balance", "Show the balance (msat, with sat alongside)");
    balance->add_flag(
        "--json", balance_args->json,
        "Print {\"balance_msat\", \"available_msat\", \"pending_in_msat\", \"pending_out_msat\"}");
    balance->callback([balance_args, &exit_code] { exit_code = run_balance(*balance_args); });

    auto history_args = std::make_shared<WalletArgs>();
    CLI::App* history = wallet->add_subcommand(
        "history",
        "List the wallet's movements, newest first: one receipt per payment, with its split");
    history->add_flag("--json", history_args->json, "Print a JSON array of receipts");
    history->add_option("--limit", history_args->limit, "Receipts to show")->capture_default_str();
    history
        ->add_option("--before", history_args->before,
                     "Only receipts older than this seq (for paging)")
        ->check(CLI::NonNegativeNumber);
    history->callback([history_args, &exit_code] { exit_code = run_history(*history_args); });

    CLI::App* deposit = wallet->add_subcommand(
        "deposit", "Show the bitcoin address that funds the wallet (a BIP21 URI, then the address; a QR "
                   "code on a terminal). The same address until it receives funds");
    deposit->callback([&exit_code] { exit_code = run_deposit(); });

    auto withdraw_args = std::make_shared<WalletArgs>();
    CLI::App* withdraw = wallet->add_subcommand(
        "withdraw", "Send AMOUNT (whole sats) to a bitcoin ADDRESS; the network fee is charged on top. "
                    "Prints the txid last (or the id of a withdrawal waiting for approval)");
    withdraw->add_option("ADDRESS", withdraw_args->address, "Bitcoin address")->required();
    withdraw->add_option("AMOUNT", withdraw_args->amount, "Amount, e.g. 50000sat or 0.001btc")->required();
    withdraw->add_option(
        "--idempotency-key", withdraw_args->request_key,
        "Send the request under this key (1-64 of A-Z a-z 0-9 - _): with the key of an earlier "
        "run, answers that run's withdrawal instead of sending a second (a new key by default)");
    withdraw->callback([withdraw_args, &exit_code] { exit_code = run_withdraw(*withdraw_args); });
}

}  // namespace satload::cli
