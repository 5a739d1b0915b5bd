// Upload state JSON: Boost.JSON for everything but the secret, which is spliced in and out by
// hand so that every copy of it can be wiped.
#include "client/upload_state.h"

#include <boost/json.hpp>

#include <unistd.h>

#include "client/files.h"
#include "core/encoding.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxStateParts = 64;

ClientResult<UploadState> bad_state(std::string_view why) {
    return client_error(ErrorCode::state, "the upload state file is unusable: " + std::string(why));
}

template <class T>
bool get_uint(const json::object& obj, std::string_view key, T& out) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr) return false;
    std::uint64_t value = 0;
    if (v->is_uint64()) {
        value = v->get_uint64();
    } else if (v->is_int64() && v->get_int64() >= 0) {
        value = static_cast<std::uint64_t>(v->get_int64());
    } else {
        return false;
    }
    if (value > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(value);
    return true;
}

bool get_string(const json::object& obj, std::string_view key, std::string& out) {
    const auto* v = obj.if_contains(key);
    if (v == nullptr || !v->is_string()) return false;
    out = std::string(v->get_string());
    return true;
}

}  // namespace

UploadState::~UploadState() { crypto::secure_wipe(secret.data(), secret.size()); }

std::string upload_state_to_json(const UploadState& state) {
    json::object obj;
    obj["version"] = kUploadStateVersion;
    obj["source_path"] = state.source_path;
    obj["size_bytes"] = state.size_bytes;
    obj["mtime_ns"] = state.mtime_ns;
    obj["server"] = state.server;
    obj["salt"] = base64url_encode(state.salt);
    obj["record_size"] = state.record_size;
    obj["concatenated"] = state.concatenated;
    json::array parts;
    for (const auto& p : state.parts) {
        parts.push_back(json::object{{"url", p.url}, {"begin_bytes", p.begin_bytes},
                                     {"end_bytes", p.end_bytes}});
    }
    obj["parts"] = std::move(parts);
    const std::string rest = json::serialize(obj);  // "{...}", never empty
    std::string secret = crypto::secret_to_text(state.secret);
    std::string out;
    out.reserve(rest.size() + secret.size() + 16);
    out += "{\"secret\":\"";
    out += secret;
    out += "\",";
    out.append(rest, 1);
    crypto::secure_wipe(secret.data(), secret.size());
    return out;
}

ClientResult<UploadState> upload_state_from_json(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec || !value.is_object()) return bad_state("not a JSON object");
    json::object& obj = value.get_object();
    UploadState state;
    // Take the secret first and wipe the parser's copy whatever happens next.
    if (auto* s = obj.if_contains("secret"); s != nullptr && s->is_string()) {
        json::string& text_secret = s->get_string();
        auto secret = crypto::secret_from_text(text_secret);
        crypto::secure_wipe(text_secret.data(), text_secret.size());
        if (!secret) return bad_state("malformed secret");
        state.secret = *secret;
        crypto::secure_wipe(secret->data(), secret->size());
    } else {
        return bad_state("no secret");
    }
    int version = 0;
    if (!get_uint(obj, "version", version) || version != kUploadStateVersion) {
        return bad_state("unknown version");
    }
    std::string salt;
    std::uint64_t mtime = 0;
    const auto* concatenated = obj.if_contains("concatenated");
    if (!get_string(obj, "source_path", state.source_path) ||
        !get_uint(obj, "size_bytes", state.size_bytes) || !obj.if_contains("mtime_ns") ||
        !get_string(obj, "server", state.server) || !get_string(obj, "salt", salt) ||
        !get_uint(obj, "record_size", state.record_size) || concatenated == nullptr ||
        !concatenated->is_bool()) {
        return bad_state("missing fields");
    }
    state.concatenated = concatenated->get_bool();
    const auto& m = obj.at("mtime_ns");
    if (m.is_int64()) {
        state.mtime_ns = m.get_int64();
    } else if (get_uint(obj, "mtime_ns", mtime) &&
               mtime <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        state.mtime_ns = static_cast<std::int64_t>(mtime);
    } else {
        return bad_state("bad mtime");
    }
    const auto salt_bytes = base64url_decode(salt);
    if (!salt_bytes || salt_bytes->size() != state.salt.size()) return bad_state("bad salt");
    std::copy(salt_bytes->begin(), salt_bytes->end(), state.salt.begin());
    if (state.record_size < crypto::ece::kMinRecordSize ||
        state.record_size > crypto::ece::kMaxRecordSize) {
        return bad_state("bad record size");
    }
    const auto* parts = obj.if_contains("parts");
    if (parts == nullptr || !parts->is_array() || parts->get_array().empty() ||
        parts->get_array().size() > kMaxStateParts) {
        return bad_state("bad parts");
    }
    for (const auto& p : parts->get_array()) {
        if (!p.is_object()) return bad_state("bad part");
        PartState part;
        if (!get_string(p.get_object(), "url", part.url) ||
            !get_uint(p.get_object(), "begin_bytes", part.begin_bytes) ||
            !get_uint(p.get_object(), "end_bytes", part.end_bytes) ||
            part.end_bytes <= part.begin_bytes) {
            return bad_state("bad part");
        }
        state.parts.push_back(std::move(part));
    }
    return state;
}

fs::path upload_state_path(const fs::path& home, const std::string& absolute_source) {
    const auto digest = crypto::sha256(as_bytes(absolute_source));
    return home / "uploads" / (hex_encode(digest) + ".json");
}

ClientResult<std::optional<UploadState>> load_upload_state(const fs::path& path) {
    auto text = read_small_file(path, kMaxStateFileBytes);
    if (!text) {
        if (text.error().code == ErrorCode::not_found) return std::optional<UploadState>();
        return tl::unexpected(text.error());
    }
    auto state = upload_state_from_json(*text);
    crypto::secure_wipe(text->data(), text->size());
    if (!state) return tl::unexpected(state.error());
    return std::optional<UploadState>(std::move(*state));
}

ClientResult<void> save_upload_state(const fs::path& path, const UploadState& state) {
    if (auto r = make_private_dir(path.parent_path()); !r) return r;
    std::string text = upload_state_to_json(state);
    auto r = write_file_atomic(path, text);
    crypto::secure_wipe(text.data(), text.size());
    return r;
}

void remove_upload_state(const fs::path& path) {
    ::unlink(path.c_str());
    (void)sync_directory(path.parent_path());
}

}  // namespace satload::client
