// File lookup, download opening and scrubbing.
#include "files/file_service.h"

#include "core/ids.h"

namespace satload::files {

FileService::FileService(store::BlobStore& blobs, store::MetaStore& meta)
    : m_blobs(blobs), m_meta(meta) {}

Result<store::FileRecord, FileFailure> FileService::info(const std::string& file_id) {
    if (!is_file_id(file_id)) return fail(FileFailure{FileError::not_found, "no such file"});
    auto found = m_meta.get_file(file_id);
    if (!found) return fail(FileFailure{FileError::storage, found.error().message});
    if (!*found) return fail(FileFailure{FileError::not_found, "no such file"});
    return std::move(**found);
}

Result<OpenedFile, FileFailure> FileService::open(const std::string& file_id) {
    auto record = info(file_id);
    if (!record) return fail(record.error());
    auto reader = m_blobs.open_blob(file_id);
    if (!reader) {
        if (reader.error().code == store::StoreError::not_found) {
            return fail(FileFailure{FileError::storage, "the file's blob is missing"});
        }
        return fail(FileFailure{FileError::storage, reader.error().message});
    }
    return OpenedFile{std::move(*record), std::move(*reader)};
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
