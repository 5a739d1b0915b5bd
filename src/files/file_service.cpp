// File lookup, download opening, link controls, expiry of anonymous files and scrubbing.
#include "files/file_service.h"

#include "core/ids.h"

namespace satload::files {

FileService::FileService(store::BlobStore& blobs, store::MetaStore& meta)
    : m_blobs(blobs), m_meta(meta), m_clock(m_system_clock) {}

FileService::FileService(store::BlobStore& blobs, store::MetaStore& meta, const Clock& clock)
    : m_blobs(blobs), m_meta(meta), m_clock(clock) {}

Result<store::FileRecord, FileFailure> FileService::info(const std::string& file_id) {
    if (!is_file_id(file_id)) return fail(FileFailure{FileError::not_found, "no such file"});
    auto found = m_meta.get_file(file_id);
    if (!found) return fail(FileFailure{FileError::storage, found.error().message});
    if (!*found) return fail(FileFailure{FileError::not_found, "no such file"});
    store::FileRecord record = std::move(**found);
    {
        const std::lock_guard lock(m_pending_mutex);
        if (const auto it = m_pending_downloads.find(file_id); it != m_pending_downloads.end()) {
            record.downloads += it->second;
        }
    }
    return record;
}

Result<OpenedFile, FileFailure> FileService::open(const std::string& file_id) {
    auto record = info(file_id);
    if (!record) return fail(record.error());
    auto reader = open_blob(file_id);
    if (!reader) return fail(reader.error());
    return OpenedFile{std::move(*record), std::move(*reader)};
}

Result<std::unique_ptr<store::BlobReader>, FileFailure> FileService::open_blob(
    const std::string& file_id) {
    auto reader = m_blobs.open_blob(file_id);
    if (!reader) {
        if (reader.error().code == store::StoreError::not_found) {
            return fail(FileFailure{FileError::storage, "the file's blob is missing"});
        }
        return fail(FileFailure{FileError::storage, reader.error().message});
    }
    return std::move(*reader);
}

std::optional<LinkRefusal> FileService::link_refusal(const store::FileRecord& file) const {
    if (auto own = files::link_refusal(file, m_clock.now_s())) return own;
    if (m_link_block && m_link_block(file.file_id)) return LinkRefusal::revoked;
    return std::nullopt;
}

Result<std::uint64_t, FileFailure> FileService::count_download(const std::string& file_id) {
    auto count = m_meta.count_download(file_id);
    if (!count) {
        // The file was deleted while its last byte was on the way: nothing left to count.
        const FileError code =
            count.error().code == store::StoreError::not_found ? FileError::not_found : FileError::storage;
        return fail(FileFailure{code, count.error().message});
    }
    return *count;
}

void FileService::count_download_later(const std::string& file_id) {
    const std::lock_guard lock(m_pending_mutex);
    ++m_pending_downloads[file_id];
}

void FileService::uncount_download_later(const std::string& file_id) {
    const std::lock_guard lock(m_pending_mutex);
    const auto it = m_pending_downloads.find(file_id);
    if (it == m_pending_downloads.end()) return;  // already written: a rare, harmless overcount
    if (--it->second == 0) m_pending_downloads.erase(it);
}

std::size_t FileService::flush_download_counts() {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    {
        const std::lock_guard lock(m_pending_mutex);
        counts.assign(m_pending_downloads.begin(), m_pending_downloads.end());
        m_pending_downloads.clear();
    }
    if (counts.empty()) return 0;
    if (!m_meta.add_downloads(counts)) {
        // Kept for the next flush, added to whatever was counted meanwhile.
        const std::lock_guard lock(m_pending_mutex);
        for (const auto& [id, n] : counts) m_pending_downloads[id] += n;
        return 0;
    }
    return counts.size();
}

void FileService::uncount_download(const std::string& file_id) {
    // Best effort: a file deleted meanwhile has no count left to correct.
    (void)m_meta.uncount_download(file_id);
}

Result<store::FileRecord, FileFailure> FileService::update_controls(const std::string& file_id,
                                                                    const ControlsChange& change) {
    // A new download limit must see every download so far.
    (void)flush_download_counts();
    if (!is_file_id(file_id)) return fail(FileFailure{FileError::not_found, "no such file"});
    store::FileControlsUpdate update;
    if (change.price_msat) {
        if (auto problem = check_price(*change.price_msat)) return fail(FileFailure{FileError::invalid, *problem});
        update.price_msat = *change.price_msat;
    }
    if (change.expires_in_s) {
        update.expires_s.emplace();
        if (*change.expires_in_s) {
            if (auto problem = check_lifetime(**change.expires_in_s)) {
                return fail(FileFailure{FileError::invalid, *problem});
            }
            *update.expires_s = m_clock.now_s() + **change.expires_in_s;
        }
    }
    if (change.max_downloads) {
        if (*change.max_downloads) {
            if (auto problem = check_download_limit(**change.max_downloads)) {
                return fail(FileFailure{FileError::invalid, *problem});
            }
        }
        update.max_downloads = *change.max_downloads;
    }
    update.revoked = change.revoked;
    update.meta = change.meta;
    auto updated = m_meta.update_file_controls(file_id, update);
    if (!updated) {
        if (updated.error().code == store::StoreError::not_found) {
            return fail(FileFailure{FileError::not_found, "no such file"});
        }
        return fail(FileFailure{FileError::storage, updated.error().message});
    }
    return std::move(*updated);
}

std::size_t FileService::remove_expired(std::size_t limit) {
    auto expired = m_meta.expired_anonymous_files(m_clock.now_s(), limit);
    if (!expired) return 0;
    std::size_t removed = 0;
    for (const auto& file : *expired) {
        if (auto r = m_meta.delete_file(file.file_id); !r && r.error().code != store::StoreError::not_found) {
            continue;  // the next round tries again
        }
        // A blob already gone (or failing to go) leaves at worst an orphan for an operator;
        // the link is dead either way since the record is.
        (void)m_blobs.remove_blob(file.file_id);
        ++removed;
    }
    return removed;
}

ScrubReport FileService::scrub(const std::string& after_id, std::size_t limit) {
    ScrubReport report;
    auto files = m_meta.list_files(after_id, limit);
    if (!files) return report;
    for (const auto& file : *files) {
        ++report.checked;
        report.last_id = file.file_id;
        auto digest = m_blobs.digest_blob(file.file_id);
        if (!digest || digest->sha256_hex != file.sha256_hex || digest->size_bytes != file.size_bytes) {
            report.corrupt.push_back(file.file_id);
            report_corrupt(file.file_id);
        }
    }
    if (files->size() < limit) report.last_id.clear();
    return report;
}

void FileService::report_corrupt(const std::string& /*file_id*/) { ++m_corrupt_seen; }

}  // namespace satload::files
