// The data directory's operator side: opening the ledger beside the metadata, admin.json, and
// the backup and restore shared by the admin API (admin.cpp) and `satload admin` (offline).
#include "server/admin.h"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "onchain/seed.h"
#include "ledger/accounts.h"
#include "ledger/checkpoint.h"
#include "ledger/pg_ledger_store.h"
#include "ledger/sqlite_ledger_store.h"
#include "store/posix_file.h"

namespace satload::server {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Files listed one by one in the manifest at most; beyond it only counts are given.
constexpr std::size_t kManifestFilesListedMax = 100'000;
// Metadata rows read per page when checking the backup's files against its blobs.
constexpr std::size_t kBackupFilesPage = 1000;

std::string errno_text(int err) { return std::strerror(err); }

// fsync of a file or directory, so what the backup or restore wrote survives a power loss.
Result<void, std::string> sync_path(const fs::path& path, bool directory) {
    const int flags = O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0);
    const store::UniqueFd fd(::open(path.c_str(), flags));
    if (!fd.valid()) return fail(fmt::format("cannot open {}: {}", path.string(), errno_text(errno)));
    if (::fsync(fd.get()) != 0) return fail(fmt::format("cannot sync {}: {}", path.string(), errno_text(errno)));
    return {};
}

// True when `dir` is absent or an empty directory; an error when it is something else.
Result<bool, std::string> is_absent_or_empty(const fs::path& dir) {
    std::error_code ec;
    const auto status = fs::symlink_status(dir, ec);
    if (status.type() == fs::file_type::not_found) return true;
    if (ec) return fail(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
    if (status.type() != fs::file_type::directory) return false;
    const bool empty = fs::is_empty(dir, ec);
    if (ec) return fail(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
    return empty;
}

struct CopyCounts {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
    std::uint64_t linked = 0;
    std::uint64_t copied = 0;
    json::array listed;
};

// Mirrors the regular files below `from` into `to` (same relative paths): hard links when
// `link` and the file system allows (the source never changes), else copies synced to disk.
// Each directory created is synced once its entries are in.
Result<void, std::string> mirror_tree(const fs::path& from, const fs::path& to, bool link,
                                      std::string_view manifest_prefix, CopyCounts& counts) {
    std::error_code ec;
    if (!fs::exists(from, ec)) return {};
    fs::create_directories(to, ec);
    if (ec) return fail(fmt::format("cannot create {}: {}", to.string(), ec.message()));
    std::vector<fs::path> dirs{to};
    for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path rel = fs::relative(it->path(), from, ec);
        if (ec) break;
        const fs::path target = to / rel;
        if (it->is_directory(ec)) {
            fs::create_directories(target, ec);
            if (ec) return fail(fmt::format("cannot create {}: {}", target.string(), ec.message()));
            dirs.push_back(target);
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        const std::uint64_t size = it->file_size(ec);
        if (ec) {
            // Removed while we walked (a deleted file, an expired upload): not in the backup.
            if (ec == std::errc::no_such_file_or_directory) { ec.clear(); continue; }
            break;
        }
        bool done = false;
        if (link) {
            std::error_code link_ec;
            fs::create_hard_link(it->path(), target, link_ec);
            if (!link_ec) {
                done = true;
                ++counts.linked;
            } else if (link_ec == std::errc::no_such_file_or_directory) {
                continue;  // removed meanwhile
            }
        }
        if (!done) {
            std::error_code copy_ec;
            fs::copy_file(it->path(), target, fs::copy_options::none, copy_ec);
            if (copy_ec == std::errc::no_such_file_or_directory) continue;
            if (copy_ec) return fail(fmt::format("cannot copy {}: {}", it->path().string(), copy_ec.message()));
            if (auto r = sync_path(target, false); !r) return r;
            ++counts.copied;
        }
        ++counts.files;
        counts.bytes += size;
        if (counts.listed.size() < kManifestFilesListedMax) {
            json::object entry;
            entry["path"] = (fs::path(manifest_prefix) / rel).string();
            entry["size_bytes"] = size;
            counts.listed.push_back(std::move(entry));
        }
    }
    if (ec) return fail(fmt::format("cannot read {}: {}", from.string(), ec.message()));
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
        if (auto r = sync_path(*it, true); !r) return r;
    }
    return {};
}

// Removes from the backup's metadata every file whose blob the backup does not hold: files
// deleted between the metadata snapshot and the blob walk. Returns their ids.
Result<json::array, std::string> drop_files_without_blobs(const fs::path& meta_file,
                                                         const fs::path& blobs_dir) {
    auto meta = store::SqliteMetaStore::open(meta_file);
    if (!meta) return fail("cannot open the metadata copy: " + meta.error().message);
    json::array dropped;
    std::vector<std::string> missing;
    std::string after;
    for (;;) {
        auto page = (*meta)->list_files(after, kBackupFilesPage);
        if (!page) return fail("cannot list the metadata copy: " + page.error().message);
        for (const auto& f : *page) {
            std::error_code ec;
            const fs::path blob = blobs_dir / "blobs" / f.file_id.substr(0, 2) / f.file_id;
            if (!fs::exists(blob, ec)) missing.push_back(f.file_id);
        }
        if (page->size() < kBackupFilesPage) break;
        after = page->back().file_id;
    }
    for (const auto& id : missing) {
        if (auto r = (*meta)->delete_file(id); !r) return fail("cannot update the metadata copy: " + r.error().message);
        dropped.push_back(json::value(id));
    }
    return dropped;
}

}  // namespace

namespace {

// Opens the ledger on `store` with its checkpoint and creates the system accounts.
Result<std::unique_ptr<ledger::Ledger>, std::string> open_ledger_on(std::unique_ptr<ledger::LedgerStore> store,
                                                                    fs::path checkpoint, const std::string& where) {
    ledger::LedgerOptions options;
    options.checkpoint_file = std::move(checkpoint);
    // A shared journal (PostgreSQL) is written by every instance, each keeping its checkpoint
    // in its own data directory: an instance that joins with a new directory has none yet. Its
    // checkpoint then guards the journal from the first start on.
    options.allow_missing_checkpoint = store->shared_journal();
    options.gather_wait = kLedgerGatherWait;
    auto opened = ledger::Ledger::open(std::move(store), std::move(options));
    if (!opened) {
        return fail(fmt::format("cannot open the ledger {}: {} ({})", where, opened.error().message,
                                ledger::ledger_error_name(opened.error().code)));
    }
    auto outcomes = (*opened)->create_accounts(ledger::system_accounts());
    if (!outcomes) return fail("cannot create the ledger's system accounts: " + outcomes.error().message);
    for (const auto& o : *outcomes) {
        if (o.result != ledger::CreateAccountResult::ok && o.result != ledger::CreateAccountResult::exists) {
            return fail(fmt::format("the ledger's system accounts disagree with the chart of accounts: {}",
                                    ledger::result_name(o.result)));
        }
    }
    return std::move(*opened);
}

}  // namespace

Result<std::unique_ptr<ledger::Ledger>, std::string> open_data_ledger(const fs::path& data_dir) {
    const fs::path file = data_dir / kLedgerFileName;
    auto store = ledger::SqliteLedgerStore::open(file);
    if (!store) return fail(fmt::format("cannot open the ledger {}: {}", file.string(), store.error().message));
    return open_ledger_on(std::move(*store), ledger::checkpoint_path_for(file), file.string());
}

Result<std::unique_ptr<ledger::Ledger>, std::string> open_pg_ledger(const std::string& conninfo,
                                                                    const std::string& schema,
                                                                    const fs::path& data_dir) {
    auto store = ledger::PgLedgerStore::open(conninfo, schema);
    const std::string where = "in PostgreSQL schema " + schema;
    if (!store) return fail(fmt::format("cannot open the ledger {}: {}", where, store.error().message));
    return open_ledger_on(std::move(*store), data_dir / fmt::format(kPgLedgerCheckpointName, schema), where);
}

Result<void, std::string> write_private_file(const fs::path& data_dir, std::string_view name, std::string_view text) {
    const fs::path target = data_dir / name;
    const fs::path temp = data_dir / (std::string(name) + ".tmp");
    ::unlink(temp.c_str());  // a leftover of a crash; O_EXCL below must create a fresh file
    const store::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    auto result = [&]() -> Result<void, std::string> {
        if (!fd.valid()) return fail(fmt::format("cannot create {}: {}", temp.string(), errno_text(errno)));
        // The mode argument is filtered by the umask; 0600 must hold whatever the umask is.
        if (::fchmod(fd.get(), 0600) != 0) return fail(fmt::format("cannot chmod {}: {}", temp.string(), errno_text(errno)));
        std::uint64_t written_bytes = 0;
        auto w = store::write_all_at(fd.get(), 0, as_bytes(text), written_bytes);
        if (!w) return fail(w.error().message);
        if (::fsync(fd.get()) != 0) return fail(fmt::format("cannot sync {}: {}", temp.string(), errno_text(errno)));
        if (::rename(temp.c_str(), target.c_str()) != 0) {
            return fail(fmt::format("cannot write {}: {}", target.string(), errno_text(errno)));
        }
        return sync_path(data_dir, true);
    }();
    if (!result) ::unlink(temp.c_str());
    return result;
}

Result<void, std::string> write_admin_file(const fs::path& data_dir, const AdminFile& file) {
    json::object body;
    body["url"] = file.url;
    body["token"] = file.token;
    std::string text = json::serialize(body) + "\n";
    auto result = write_private_file(data_dir, kAdminFileName, text);
    crypto::secure_wipe(text.data(), text.size());
    return result;
}

Result<std::optional<AdminFile>, std::string> read_admin_file(const fs::path& data_dir) {
    const fs::path path = data_dir / kAdminFileName;
    const store::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::optional<AdminFile>{};
        return fail(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
    }
    std::string text(kAdminFileBytesMax + 1, '\0');
    auto n = store::read_full_at(fd.get(), 0, std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
    if (!n) return fail(fmt::format("cannot read {}: {}", path.string(), n.error().message));
    if (*n > kAdminFileBytesMax) return fail(path.string() + " is too large");
    text.resize(*n);
    std::optional<AdminFile> out;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    crypto::secure_wipe(text.data(), text.size());
    if (!ec && v.is_object()) {
        const auto* url = v.as_object().if_contains("url");
        const auto* token = v.as_object().if_contains("token");
        if (url && url->is_string() && token && token->is_string()) {
            out = AdminFile{std::string(url->as_string()), std::string(token->as_string())};
        }
    }
    if (v.is_object()) {
        if (auto* token = v.as_object().if_contains("token"); token && token->is_string()) {
            crypto::secure_wipe(token->as_string().data(), token->as_string().size());
        }
    }
    if (!out) return fail(path.string() + " is not an admin file (want {\"url\", \"token\"})");
    return out;
}

Result<std::string, BackupFailure> write_backup(const fs::path& dir, ledger::Ledger& ledger,
                                                store::SqliteMetaStore& meta, const fs::path& blobs_root) {
    auto io = [](std::string message) { return fail(BackupFailure{BackupError::io, std::move(message)}); };
    if (!dir.is_absolute()) {
        return fail(BackupFailure{BackupError::target_invalid, "the backup directory must be an absolute path"});
    }
    auto empty = is_absent_or_empty(dir);
    if (!empty) return io(empty.error());
    if (!*empty) {
        return fail(BackupFailure{BackupError::target_not_empty,
                                  dir.string() + " exists and is not an empty directory"});
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return io(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);

    // Metadata first: every blob it references was committed before it, so the walk below
    // finds it unless the file was deleted meanwhile (dropped after the walk).
    const fs::path meta_copy = dir / kMetaFileName;
    if (auto r = meta.backup_to(meta_copy); !r) {
        return fail(BackupFailure{BackupError::meta, "metadata backup failed: " + r.error().message});
    }
    CopyCounts blobs;
    if (auto r = mirror_tree(blobs_root / "blobs", dir / kBlobsDirName / "blobs", true, "blobs/blobs", blobs); !r) {
        return io(r.error());
    }
    // Partial uploads grow while we copy; a copy at least as long as the offset the metadata
    // snapshot recorded is enough (a resumed upload continues from that offset).
    CopyCounts partials;
    if (auto r = mirror_tree(blobs_root / "partial", dir / kBlobsDirName / "partial", false, "blobs/partial",
                             partials);
        !r) {
        return io(r.error());
    }
    auto dropped = drop_files_without_blobs(meta_copy, dir / kBlobsDirName);
    if (!dropped) return io(dropped.error());
    if (auto r = ledger.backup(dir); !r) {
        return fail(BackupFailure{BackupError::ledger, "ledger backup failed: " + r.error().message});
    }
    // The encrypted wallet seed (present with --node): the keys of every chain_* address.
    const fs::path seed_file = blobs_root.parent_path() / onchain::kSeedFileName;
    const bool with_seed = fs::is_regular_file(seed_file, ec);
    if (with_seed) {
        fs::copy_file(seed_file, dir / onchain::kSeedFileName, fs::copy_options::none, ec);
        if (ec) return io(fmt::format("cannot copy {}: {}", seed_file.string(), ec.message()));
        if (auto r = sync_path(dir / onchain::kSeedFileName, false); !r) return io(r.error());
    }
    const ledger::JournalHead head = ledger.head();

    json::object manifest;
    manifest["format"] = kBackupFormat;
    manifest["created_s"] = static_cast<std::int64_t>(std::time(nullptr));
    json::object ledger_part;
    ledger_part["file"] = kBackupLedgerName;
    ledger_part["checkpoint"] = kBackupLedgerHeadName;
    ledger_part["entries_at_least"] = head.count;  // the head when the backup finished
    manifest["ledger"] = std::move(ledger_part);
    manifest["meta"] = kMetaFileName;
    if (with_seed) manifest["wallet_seed"] = onchain::kSeedFileName;
    json::object blob_part;
    blob_part["count"] = blobs.files;
    blob_part["bytes"] = blobs.bytes;
    blob_part["hard_linked"] = blobs.linked;
    blob_part["copied"] = blobs.copied;
    blob_part["files"] = std::move(blobs.listed);
    manifest["blobs"] = std::move(blob_part);
    json::object partial_part;
    partial_part["count"] = partials.files;
    partial_part["bytes"] = partials.bytes;
    partial_part["files"] = std::move(partials.listed);
    manifest["partial_uploads"] = std::move(partial_part);
    manifest["files_deleted_during_backup"] = std::move(*dropped);
    const std::string text = json::serialize(manifest);

    const fs::path temp = dir / (std::string(kBackupManifestName) + ".tmp");
    {
        const store::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid()) return io(fmt::format("cannot create {}: {}", temp.string(), errno_text(errno)));
        const std::string line = text + "\n";
        std::uint64_t written_bytes = 0;
        auto w = store::write_all_at(fd.get(), 0, as_bytes(line), written_bytes);
        if (!w) return io(w.error().message);
        if (::fsync(fd.get()) != 0) return io(fmt::format("cannot sync {}: {}", temp.string(), errno_text(errno)));
    }
    if (::rename(temp.c_str(), (dir / kBackupManifestName).c_str()) != 0) {
        return io(fmt::format("cannot write the manifest: {}", errno_text(errno)));
    }
    if (auto r = sync_path(dir, true); !r) return io(r.error());
    return text;
}

Result<void, std::string> restore_backup(const fs::path& backup_dir, const fs::path& data_dir) {
    std::error_code ec;
    const fs::path manifest_file = backup_dir / kBackupManifestName;
    if (!fs::is_regular_file(manifest_file, ec)) {
        return fail(backup_dir.string() + " is not a complete satload backup (no " +
                    std::string(kBackupManifestName) + ")");
    }
    {
        std::FILE* f = std::fopen(manifest_file.c_str(), "rb");
        if (!f) return fail(fmt::format("cannot read {}: {}", manifest_file.string(), errno_text(errno)));
        std::string text;
        char buf[65536];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        std::fclose(f);
        boost::system::error_code jec;
        const json::value v = json::parse(text, jec);
        const json::value* format = (!jec && v.is_object()) ? v.as_object().if_contains("format") : nullptr;
        if (!format || !format->is_string() || format->as_string() != kBackupFormat) {
            return fail(manifest_file.string() + " is not a " + std::string(kBackupFormat) + " manifest");
        }
    }
    for (const auto name : {kBackupLedgerName, kBackupLedgerHeadName, kMetaFileName}) {
        if (!fs::is_regular_file(backup_dir / name, ec)) {
            return fail(fmt::format("the backup lacks {}", (backup_dir / name).string()));
        }
    }
    auto empty = is_absent_or_empty(data_dir);
    if (!empty) return fail(empty.error());
    if (!*empty) return fail(data_dir.string() + " is not empty: restore needs an empty data directory");
    fs::create_directories(data_dir, ec);
    if (ec) return fail(fmt::format("cannot create {}: {}", data_dir.string(), ec.message()));
    fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

    const fs::path ledger_file = data_dir / kLedgerFileName;
    const std::pair<fs::path, fs::path> copies[] = {
        {backup_dir / kMetaFileName, data_dir / kMetaFileName},
        {backup_dir / kBackupLedgerName, ledger_file},
        {backup_dir / kBackupLedgerHeadName, ledger::checkpoint_path_for(ledger_file)},
    };
    for (const auto& [from, to] : copies) {
        fs::copy_file(from, to, fs::copy_options::none, ec);
        if (ec) return fail(fmt::format("cannot copy {}: {}", from.string(), ec.message()));
        if (auto r = sync_path(to, false); !r) return r;
    }
    if (fs::is_regular_file(backup_dir / onchain::kSeedFileName, ec)) {
        const fs::path to = data_dir / onchain::kSeedFileName;
        fs::copy_file(backup_dir / onchain::kSeedFileName, to, fs::copy_options::none, ec);
        if (ec) return fail(fmt::format("cannot copy the wallet seed: {}", ec.message()));
        fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
        if (auto r = sync_path(to, false); !r) return r;
    }
    // Copies, not links: the restored data directory must not share inodes with the backup.
    CopyCounts counts;
    if (auto r = mirror_tree(backup_dir / kBlobsDirName, data_dir / kBlobsDirName, false, "blobs", counts); !r) {
        return r;
    }
    return sync_path(data_dir, true);
}

}  // namespace satload::server
