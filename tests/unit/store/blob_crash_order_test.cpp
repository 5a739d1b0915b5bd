// Pins down the crash-safety order of the local blob store by tracing its real system calls
// with strace: a created partial's directory is fsynced, appended data is fdatasynced, and a
// commit fsyncs the data before the rename and both directories after it.
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/local_blob_store.h"
#include "store_test_util.h"

namespace satload::store {
namespace {

namespace fs = std::filesystem;

// The traced child is this same test executable, re-run with these variables set: it does
// the store's work before main() and exits, so no test framework runs under strace.
constexpr const char* kChildRootEnv = "SATLOAD_STORE_TRACE_CHILD_ROOT";
constexpr const char* kChildUploadEnv = "SATLOAD_STORE_TRACE_CHILD_UPLOAD";
constexpr const char* kChildFileEnv = "SATLOAD_STORE_TRACE_CHILD_FILE";
constexpr std::size_t kChildChunks = 3;
constexpr std::size_t kChildChunkBytes = 4096;

int run_trace_child(const char* root) {
    const char* upload_id = std::getenv(kChildUploadEnv);
    const char* file_id = std::getenv(kChildFileEnv);
    if (!upload_id || !file_id) return 2;
    auto store = LocalBlobStore::open(root);
    if (!store) return 3;
    if (!(*store)->create_partial(upload_id)) return 4;
    auto appender = (*store)->open_append(upload_id, 0);
    if (!appender) return 5;
    for (std::size_t i = 0; i < kChildChunks; ++i) {
        const auto chunk = testing::pseudo_random_bytes(kChildChunkBytes, static_cast<std::uint32_t>(i));
        if (!(*appender)->write(chunk)) return 6;
    }
    if (!(*appender)->sync()) return 7;
    appender->reset();
    if (!(*store)->commit_partial(upload_id, file_id)) return 8;
    return 0;
}

// Runs before main(). std::_Exit skips atexit handlers (and LeakSanitizer, which would try to
// ptrace a process that strace already traces).
[[maybe_unused]] const bool kIsTraceChild = [] {
    if (const char* root = std::getenv(kChildRootEnv)) std::_Exit(run_trace_child(root));
    return false;
}();

std::optional<fs::path> find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

struct Call {
    std::string name;    // system call
    std::string args;    // raw argument text, fds decoded by -y as N</path>
    long result = -1;
    std::size_t line = 0;
};

std::vector<Call> parse_trace(const fs::path& file) {
    // "<pid> name(args) = result ..." ; with -f every line starts with the pid.
    static const std::regex line_re(R"(^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+).*$)");
    std::vector<Call> calls;
    std::ifstream in(file);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        std::smatch m;
        if (!std::regex_match(line, m, line_re)) continue;
        calls.push_back(Call{m[1], m[2], std::stol(m[3]), number});
    }
    return calls;
}

// The paths of the descriptors in a call's arguments, as strace -y prints them.
std::vector<std::string> fd_paths(const Call& call) {
    static const std::regex fd_re(R"(\d+<([^>]*)>)");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(call.args.begin(), call.args.end(), fd_re);
         it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
    }
    return out;
}

// Index of the first call at or after `from` (before `to`) matching pred, or -1.
template <class Pred>
long find_call(const std::vector<Call>& calls, std::size_t from, std::size_t to, Pred pred) {
    for (std::size_t i = from; i < to && i < calls.size(); ++i) {
        if (pred(calls[i])) return static_cast<long>(i);
    }
    return -1;
}

std::string dump(const std::vector<Call>& calls) {
    std::string out;
    for (const auto& c : calls) out += c.name + "(" + c.args + ") = " + std::to_string(c.result) + "\n";
    return out;
}

// The durability protocol, checked on the system calls a real run makes:
// create:  openat(partial/U, O_CREAT) then fsync(partial/)
// sync:    fdatasync(partial/U) after the last write to it
// commit:  fsync(partial/U) before renameat2(partial/U -> blobs/xx/F), then fsync(blobs/xx/)
//          and fsync(partial/) after it; a new shard directory is made durable (fsync blobs/)
//          before the rename.
TEST(BlobCrashOrder, SyscallOrderUnderStrace) {
    const auto strace = find_in_path("strace");
    if (!strace) {
        FAIL() << "strace is not installed (Debian package 'strace'); this test needs it to "
                  "check the blob store's fsync/rename order";
    }
    testing::TempDir dir;
    const fs::path root = dir.path() / "blobs-root";
    const fs::path trace = dir.path() / "trace.txt";
    const fs::path child_err = dir.path() / "child.stderr";
    const std::string upload_id = testing::make_upload_id(77);
    const std::string file_id = testing::make_file_id(77);

    char exe[4096] = {};
    const ssize_t exe_len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    ASSERT_GT(exe_len, 0);

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::setenv(kChildRootEnv, root.c_str(), 1);
        ::setenv(kChildUploadEnv, upload_id.c_str(), 1);
        ::setenv(kChildFileEnv, file_id.c_str(), 1);
        const int err = ::open(child_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err >= 0) {
            ::dup2(err, STDERR_FILENO);
            ::dup2(err, STDOUT_FILENO);
        }
        const std::string strace_path = strace->string();
        const char* argv[] = {
            strace_path.c_str(), "-f", "-y", "-qq", "-o", trace.c_str(),
            "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,openat,pwrite64,mkdirat",
            exe, nullptr};
        ::execv(strace_path.c_str(), const_cast<char* const*>(argv));
        std::_Exit(127);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    std::ifstream err_in(child_err);
    const std::string child_stderr((std::istreambuf_iterator<char>(err_in)),
                                   std::istreambuf_iterator<char>());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "strace or the traced child failed (status " << status << "): " << child_stderr;

    const auto calls = parse_trace(trace);
    ASSERT_FALSE(calls.empty()) << "empty trace";
    const std::string partial_dir = (root / "partial").string();
    const std::string partial_file = (root / "partial" / upload_id).string();
    const std::string blobs_dir = (root / "blobs").string();
    const std::string shard_dir = (root / "blobs" / file_id.substr(0, 2)).string();
    const auto on = [](const std::string& path) {
        return [path](const Call& c) {
            const auto paths = fd_paths(c);
            return c.result == 0 && paths.size() == 1 && paths[0] == path;
        };
    };
    const auto fsync_of = [&](const std::string& path) {
        return [on_path = on(path)](const Call& c) { return c.name == "fsync" && on_path(c); };
    };
    const std::size_t end = calls.size();

    // Creation: the new directory entry is fsynced before any data is written.
    const long create = find_call(calls, 0, end, [&](const Call& c) {
        const auto paths = fd_paths(c);
        return c.name == "openat" && paths.size() == 1 && paths[0] == partial_dir &&
               c.args.find('"' + upload_id + '"') != std::string::npos &&
               c.args.find("O_CREAT") != std::string::npos && c.result >= 0;
    });
    ASSERT_GE(create, 0) << dump(calls);
    const long first_write = find_call(calls, 0, end, [&](const Call& c) {
        return c.name == "pwrite64" && !fd_paths(c).empty() && fd_paths(c)[0] == partial_file;
    });
    ASSERT_GT(first_write, create) << dump(calls);
    EXPECT_GE(find_call(calls, static_cast<std::size_t>(create), static_cast<std::size_t>(first_write),
                        fsync_of(partial_dir)),
              0)
        << "partial/ not fsynced after the partial was created\n" << dump(calls);

    // The rename of the commit.
    const long rename = find_call(calls, 0, end, [&](const Call& c) {
        const auto paths = fd_paths(c);
        return c.name.rfind("rename", 0) == 0 && c.result == 0 && paths.size() == 2 &&
               paths[0] == partial_dir && paths[1] == shard_dir &&
               c.args.find('"' + upload_id + '"') != std::string::npos &&
               c.args.find('"' + file_id + '"') != std::string::npos;
    });
    ASSERT_GE(rename, 0) << "no rename of partial/U to blobs/xx/F\n" << dump(calls);

    // sync(): fdatasync of the data after its last write, before the commit.
    long last_write = -1;
    for (std::size_t i = 0; i < static_cast<std::size_t>(rename); ++i) {
        const auto paths = fd_paths(calls[i]);
        if (calls[i].name == "pwrite64" && !paths.empty() && paths[0] == partial_file) {
            last_write = static_cast<long>(i);
        }
    }
    ASSERT_GE(last_write, 0);
    EXPECT_GE(find_call(calls, static_cast<std::size_t>(last_write), static_cast<std::size_t>(rename),
                        [&](const Call& c) { return c.name == "fdatasync" && on(partial_file)(c); }),
              0)
        << "appended data not fdatasynced\n" << dump(calls);

    // Commit: the data file gets a full fsync (data and inode, not just the appender's
    // fdatasync) after its last write and before the rename...
    const long data_sync = find_call(calls, static_cast<std::size_t>(last_write),
                                     static_cast<std::size_t>(rename), fsync_of(partial_file));
    EXPECT_GE(data_sync, 0) << "data file not fsynced before the rename\n" << dump(calls);
    // ...the new shard directory's entry in blobs/ is durable before the rename...
    const long shard_made = find_call(calls, 0, static_cast<std::size_t>(rename), [&](const Call& c) {
        return c.name == "mkdirat" && c.result == 0 &&
               c.args.find('"' + file_id.substr(0, 2) + '"') != std::string::npos;
    });
    ASSERT_GE(shard_made, 0) << dump(calls);
    EXPECT_GE(find_call(calls, static_cast<std::size_t>(shard_made), static_cast<std::size_t>(rename),
                        fsync_of(blobs_dir)),
              0)
        << "blobs/ not fsynced after creating the shard directory\n" << dump(calls);
    // ...and both directories are fsynced after it.
    const auto after = static_cast<std::size_t>(rename) + 1;
    EXPECT_GE(find_call(calls, after, end, fsync_of(shard_dir)), 0)
        << "destination directory not fsynced after the rename\n" << dump(calls);
    EXPECT_GE(find_call(calls, after, end, fsync_of(partial_dir)), 0)
        << "source directory not fsynced after the rename\n" << dump(calls);

    // And the run really produced the blob.
    EXPECT_EQ(fs::file_size(fs::path(shard_dir) / file_id), kChildChunks * kChildChunkBytes);
    EXPECT_FALSE(fs::exists(partial_file));
}

}  // namespace
}  // namespace satload::store
