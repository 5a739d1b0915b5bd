// Download state JSON.
#include "client/download_state.h"

#include <boost/json.hpp>

namespace satload::client {

namespace json = boost::json;

namespace {

// A state for more segments than this is not one we wrote (64 GiB / 8 MiB = 8192).
constexpr std::uint64_t kMaxSegments = 1u << 24;

bool get_u64(const json::object& obj, std::string_view key, std::uint64_t& out) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr) return false;
    if (v->is_uint64()) {
        out = v->get_uint64();
        return true;
    }
    if (v->is_int64() && v->get_int64() >= 0) {
        out = static_cast<std::uint64_t>(v->get_int64());
        return true;
    }
    return false;
}

}  // namespace

std::string download_state_to_json(const DownloadState& s) {
    json::object obj;
    obj["version"] = kDownloadStateVersion;
    obj["file_id"] = s.file_id;
    obj["etag"] = s.etag;
    obj["body_bytes"] = s.body_bytes;
    obj["plaintext_bytes"] = s.plaintext_bytes;
    obj["record_size"] = s.record_size;
    obj["segment_records"] = s.segment_records;
    obj["segments"] = s.done.size();
    json::array runs;
    for (std::size_t i = 0; i < s.done.size();) {
        if (!s.done[i]) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < s.done.size() && s.done[end]) ++end;
        runs.push_back(json::array{i, end});
        i = end;
    }
    obj["done"] = std::move(runs);
    return json::serialize(obj);
}

ClientResult<DownloadState> download_state_from_json(std::string_view text) {
    const auto bad = [] {
        return client_error(ErrorCode::state, "the download state file is unusable");
    };
    boost::system::error_code ec;
    const json::value value = json::parse(text, ec);
    if (ec || !value.is_object()) return bad();
    const auto& obj = value.get_object();
    DownloadState s;
    std::uint64_t version = 0, record_size = 0, segments = 0;
    const auto* id = obj.if_contains("file_id");
    const auto* etag = obj.if_contains("etag");
    const auto* done = obj.if_contains("done");
    if (!get_u64(obj, "version", version) || version != kDownloadStateVersion || id == nullptr ||
        !id->is_string() || etag == nullptr || !etag->is_string() ||
        !get_u64(obj, "body_bytes", s.body_bytes) ||
        !get_u64(obj, "plaintext_bytes", s.plaintext_bytes) ||
        !get_u64(obj, "record_size", record_size) || record_size > UINT32_MAX ||
        !get_u64(obj, "segment_records", s.segment_records) ||
        !get_u64(obj, "segments", segments) || segments > kMaxSegments || done == nullptr ||
        !done->is_array()) {
        return bad();
    }
    s.file_id = std::string(id->get_string());
    s.etag = std::string(etag->get_string());
    s.record_size = static_cast<std::uint32_t>(record_size);
    s.done.assign(segments, false);
    for (const auto& run : done->get_array()) {
        if (!run.is_array() || run.get_array().size() != 2) return bad();
        const auto& pair = run.get_array();
        std::uint64_t begin = 0, end = 0;
        const auto num = [](const json::value& v, std::uint64_t& out) {
            if (v.is_uint64()) out = v.get_uint64();
            else if (v.is_int64() && v.get_int64() >= 0) out = static_cast<std::uint64_t>(v.get_int64());
            else return false;
            return true;
        };
        if (!num(pair[0], begin) || !num(pair[1], end) || begin >= end || end > segments) {
            return bad();
        }
        for (std::uint64_t i = begin; i < end; ++i) s.done[i] = true;
    }
    return s;
}

}  // namespace satload::client
