// Pins down durability with real processes: a child submitting bursts of linked groups from
// many threads is killed with SIGKILL; on restart every acknowledged group is present, no
// group is partial, and the audit passes (SQLite and PostgreSQL). Because SIGKILL leaves the
// page cache intact, a second test runs a child under strace and checks the order of system
// calls: every acknowledgment follows the fdatasync of the WAL that made its commit durable
// (after the transfer was submitted), and the checkpoint of the journal head is synced and
// renamed into place after the commits, ending with the final head.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "backends.h"

extern char** environ;

namespace satload::ledger {
namespace {

using testing::Backend;
using testing::Place;
namespace tf = transfer_flags;

constexpr int kLegs = 3;
const Id128 kAssets{0x5, 1};
Id128 wallet(int i) { return Id128{0x6, static_cast<std::uint64_t>(i)}; }
// Leg `leg` of group `group` submitted by thread `thread`.
Id128 leg_id(int thread, std::uint64_t group, int leg) {
    return Id128{0x7000 + static_cast<std::uint64_t>(thread), group * kLegs + static_cast<std::uint64_t>(leg)};
}

void write_line(const std::string& line) {
    const std::string text = line + "\n";
    // One write(2) per line, below PIPE_BUF: lines from threads never interleave.
    const ssize_t n = ::write(1, text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size())) ::_exit(3);
}

std::vector<Account> accounts() {
    std::vector<Account> out;
    Account assets;
    assets.id = kAssets;
    assets.kind = AccountKind::onchain_assets;
    out.push_back(assets);
    for (int i = 0; i < kLegs; ++i) {
        Account w;
        w.id = wallet(i);
        w.kind = AccountKind::user_wallet;
        w.flags = account_flags::debits_must_not_exceed_credits;
        w.owner = "w" + std::to_string(i);
        out.push_back(w);
    }
    return out;
}

std::vector<Transfer> group(int thread, std::uint64_t g) {
    std::vector<Transfer> legs;
    for (int leg = 0; leg < kLegs; ++leg) {
        Transfer t;
        t.id = leg_id(thread, g, leg);
        t.debit_account_id = kAssets;
        t.credit_account_id = wallet(leg);
        t.amount_msat = static_cast<std::int64_t>(1 + g % 97 + static_cast<std::uint64_t>(leg));
        t.code = transfer_code::deposit;
        t.flags = leg + 1 < kLegs ? tf::linked : 0;
        legs.push_back(t);
    }
    return legs;
}

// The child's side: runs only when a test below starts this binary with the environment set.
TEST(DISABLED_LedgerDurabilityChild, Run) {
    const char* mode = std::getenv("SATLOAD_LEDGER_CHILD");
    ASSERT_NE(mode, nullptr);
    const Backend backend = std::string_view(std::getenv("SATLOAD_LEDGER_CHILD_BACKEND")) == "postgres"
                                ? Backend::postgres
                                : Backend::sqlite;
    const char* url = std::getenv("SATLOAD_TEST_PG_URL");
    Place place(backend, std::getenv("SATLOAD_LEDGER_CHILD_DIR"), url ? url : "",
                std::getenv("SATLOAD_LEDGER_CHILD_SCHEMA"));
    auto opened = place.open_ledger();
    ASSERT_TRUE(opened) << opened.error().message;
    Ledger& ledger = **opened;
    write_line("READY");
    if (std::string_view(mode) == "sequential") {
        // One transfer at a time, so no other commit can be in flight between SUBMIT and ACK.
        for (std::uint64_t i = 0; i < 30; ++i) {
            Transfer t = group(0, i)[kLegs - 1];
            write_line("SUBMIT " + std::to_string(i));
            const auto r = ledger.create_transfers({t});
            if (!r || (*r)[0].result != TransferResult::ok) ::_exit(4);
            write_line("ACK " + std::to_string(i));
        }
        return;
    }
    std::vector<std::thread> threads;
    for (int th = 0; th < 8; ++th) {
        threads.emplace_back([&, th] {
            for (std::uint64_t g = 0; g < 1'000'000; ++g) {
                const auto r = ledger.create_transfers(group(th, g));
                if (!r) ::_exit(5);
                for (const auto& o : *r) {
                    if (o.result != TransferResult::ok) ::_exit(6);
                }
                write_line("ACK " + std::to_string(th) + " " + std::to_string(g));
            }
        });
    }
    for (auto& t : threads) t.join();
}

struct Child {
    pid_t pid = -1;
    int out_fd = -1;
};

// Starts this test binary as the child, its stdout on a pipe, optionally under strace.
Child spawn(const Place& place, const std::string& mode, const std::string& strace_log = "") {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::vector<std::string> env_strings;
    std::string asan_options;  // the inherited value, if any
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view var(*e);
        if (var.starts_with("ASAN_OPTIONS=")) {
            asan_options = var.substr(std::string_view("ASAN_OPTIONS=").size());
        } else {
            env_strings.emplace_back(var);
        }
    }
    // LeakSanitizer cannot run under ptrace (strace), so an ASan build's child skips it.
    if (!strace_log.empty()) asan_options += (asan_options.empty() ? "" : ":") + std::string("detect_leaks=0");
    if (!asan_options.empty()) env_strings.push_back("ASAN_OPTIONS=" + asan_options);
    env_strings.push_back("SATLOAD_LEDGER_CHILD=" + mode);
    env_strings.push_back("SATLOAD_LEDGER_CHILD_BACKEND=" +
                          std::string(place.backend() == Backend::postgres ? "postgres" : "sqlite"));
    env_strings.push_back("SATLOAD_LEDGER_CHILD_DIR=" + place.dir().string());
    env_strings.push_back("SATLOAD_LEDGER_CHILD_SCHEMA=" + place.schema());
    std::vector<std::string> args;
    if (!strace_log.empty()) {
        args = {"/usr/bin/strace", "-f", "-qq", "-y", "-e", "signal=none", "-e",
                "trace=fsync,fdatasync,rename,write", "-s", "64", "-o", strace_log};
    }
    args.push_back(std::filesystem::read_symlink("/proc/self/exe").string());
    args.push_back("--gtest_also_run_disabled_tests");
    args.push_back("--gtest_filter=DISABLED_LedgerDurabilityChild.Run");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env_strings) envp.push_back(e.data());
        envp.push_back(nullptr);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    return Child{pid, fds[0]};
}

// Reads whole lines from the child until `stop` says so or the pipe ends.
template <class F>
void read_lines(int fd, F&& on_line) {
    std::string buffer;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
            const std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (!on_line(line)) return;
        }
    }
}

class DurabilityTest : public ::testing::TestWithParam<Backend> {};

// SIGKILL in the middle of a burst: every acknowledged group survives, none is partial.
TEST_P(DurabilityTest, KillDuringBurstKeepsEveryAcknowledgedGroup) {
    SATLOAD_REQUIRE_BACKEND(GetParam());
    Place place(GetParam());
    {
        auto ledger = place.open_ledger();
        ASSERT_TRUE(ledger) << ledger.error().message;
        ASSERT_TRUE((*ledger)->create_accounts(accounts()));
    }
    const int kill_after = testing::small_tests() ? 200 : 1'500;
    Child child = spawn(place, "burst");
    std::set<std::pair<int, std::uint64_t>> acked;
    bool killed = false;
    read_lines(child.out_fd, [&](const std::string& line) {
        int th = 0;
        unsigned long long g = 0;
        if (std::sscanf(line.c_str(), "ACK %d %llu", &th, &g) == 2) acked.insert({th, g});
        if (!killed && static_cast<int>(acked.size()) >= kill_after) {
            ::kill(child.pid, SIGKILL);
            killed = true;
        }
        return true;  // keep reading: acks written before the kill still count
    });
    ::close(child.out_fd);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    ASSERT_TRUE(killed) << "the child ended before it was killed (status " << status << ")";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    // Restart: the ledger opens (the journal is not behind its checkpoint) and audits clean.
    auto ledger = place.open_ledger();
    ASSERT_TRUE(ledger) << ledger.error().message;
    const auto report = (*ledger)->audit();
    EXPECT_TRUE(report.passed()) << report.text();
    ledger->reset();

    std::set<Id128> applied;
    std::vector<Account> accts;
    auto store = place.open_store();
    ASSERT_TRUE(store->scan(accts, [&](const JournalEntry& e) {
        if (e.kind == EntryKind::transfer) applied.insert(e.id);
        return true;
    }));
    for (const auto& [th, g] : acked) {
        for (int leg = 0; leg < kLegs; ++leg) {
            ASSERT_TRUE(applied.contains(leg_id(th, g, leg)))
                << "acknowledged group " << th << "/" << g << " lost leg " << leg;
        }
    }
    std::map<std::pair<std::uint64_t, std::uint64_t>, int> legs_per_group;
    for (const Id128& id : applied) {
        if (id.high >= 0x7000) ++legs_per_group[{id.high, (id.low) / kLegs}];
    }
    std::size_t unacknowledged_but_durable = 0;
    for (const auto& [key, n] : legs_per_group) {
        EXPECT_EQ(n, kLegs) << "partial group " << key.first << "/" << key.second;
        if (!acked.contains({static_cast<int>(key.first - 0x7000), key.second})) ++unacknowledged_but_durable;
    }
    std::printf("acknowledged %zu groups, %zu durable groups (%zu committed but not yet acknowledged)\n",
                acked.size(), legs_per_group.size(), unacknowledged_but_durable);
}

INSTANTIATE_TEST_SUITE_P(Backends, DurabilityTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         testing::param_name);

// strace: each ACK line is written after the WAL fdatasync of its commit, which comes after
// its SUBMIT line; checkpoints are synced before they are renamed into place, and the file
// ends up holding the final head.
TEST(DurabilitySyscalls, AcknowledgmentFollowsSync) {
    if (!std::filesystem::exists("/usr/bin/strace")) {
        FAIL() << "strace is required (scripts/install-deps.sh test installs it)";
    }
    Place place(Backend::sqlite);
    {
        auto ledger = place.open_ledger();
        ASSERT_TRUE(ledger) << ledger.error().message;
        ASSERT_TRUE((*ledger)->create_accounts(accounts()));
    }
    const std::string log = (place.dir() / "strace.log").string();
    Child child = spawn(place, "sequential", log);
    int acks = 0;
    read_lines(child.out_fd, [&](const std::string& line) {
        acks += line.rfind("ACK ", 0) == 0 ? 1 : 0;
        return true;
    });
    ::close(child.out_fd);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    ASSERT_EQ(acks, 30);

    std::ifstream in(log);
    std::string line;
    const std::regex submit(R"(write\(1<[^>]*>, "SUBMIT (\d+)\\n")");
    const std::regex ack(R"(write\(1<[^>]*>, "ACK (\d+)\\n")");
    const std::regex wal_sync(R"((fdatasync|fsync)\(\d+<[^>]*ledger\.db-wal>\)\s*= 0)");
    const std::regex head_sync(R"((fdatasync|fsync)\(\d+<[^>]*ledger\.db\.head\.tmp>\)\s*= 0)");
    const std::regex head_rename(R"(rename\("[^"]*ledger\.db\.head\.tmp", "[^"]*ledger\.db\.head"\)\s*= 0)");
    std::map<int, bool> open;  // submitted, not yet acknowledged -> WAL synced since
    // Calls from concurrent threads may be split by strace into "<unfinished ...>" and
    // "<... name resumed>" lines. A write (SUBMIT, ACK) counts from when it started; a sync
    // or rename from when it completed, so the two halves of those are joined.
    const std::regex unfinished(R"(^(\d+)\s+(.*\S)\s*<unfinished \.\.\.>$)");
    const std::regex resumed(R"(^(\d+)\s+<\.\.\. \w+ resumed>(.*)$)");
    std::map<std::string, std::string> partial;
    int checked = 0;
    bool head_synced = false;
    int renames = 0;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, unfinished) && line.find(" write(") == std::string::npos) {
            partial[m[1]] = m[1].str() + " " + m[2].str();
            continue;
        }
        if (std::regex_search(line, m, resumed)) {
            const auto it = partial.find(m[1]);
            if (it == partial.end()) continue;  // the end of a write, counted at its start
            line = it->second + m[2].str();
            partial.erase(it);
        }
        if (std::regex_search(line, m, submit)) {
            open[std::stoi(m[1])] = false;
        } else if (std::regex_search(line, m, ack)) {
            const int i = std::stoi(m[1]);
            ASSERT_TRUE(open.contains(i)) << "ACK " << i << " without SUBMIT";
            EXPECT_TRUE(open[i]) << "ACK " << i << " was written before the WAL was synced";
            open.erase(i);
            ++checked;
        } else if (std::regex_search(line, wal_sync)) {
            for (auto& [i, synced] : open) synced = true;
        } else if (std::regex_search(line, head_sync)) {
            head_synced = true;
        } else if (std::regex_search(line, head_rename)) {
            EXPECT_TRUE(head_synced) << "a checkpoint was renamed into place before it was synced";
            head_synced = false;
            ++renames;
        }
    }
    EXPECT_GT(renames, 1);
    const auto checkpoint = read_checkpoint(place.checkpoint());
    ASSERT_TRUE(checkpoint && *checkpoint);
    // The final head was checkpointed: accounts, then the 30 transfers.
    EXPECT_EQ((*checkpoint)->count, 1 + kLegs + 30);
    EXPECT_EQ(checked, 30) << "strace log " << log << " did not show every ACK";
}

}  // namespace
}  // namespace satload::ledger
