// Link controls over HTTP: PATCH /api/v1/files/<id> by the file's owner (price, expiry,
// download limit, revocation, and new encrypted metadata: a rename), the state JSON of a file,
// and the 410 of a closed link.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "files/file_meta.h"
#include "server/app.h"

namespace satload::server {
namespace {

namespace json = boost::json;

// The largest PATCH body without "meta": every other member at once is under 200 bytes of
// JSON. A body may add the largest metadata an upload could carry (UploadLimits).
constexpr std::size_t kFileUpdateBodyBytesMax = 4 * 1024;
constexpr std::size_t kFileUpdateReadBytes = 1024;

// A JSON integer that fits int64 (not a double like 1.5 or 1e3, not a string).
std::optional<std::int64_t> whole_number(const json::value& v) {
    if (v.is_int64()) return v.as_int64();
    if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v.as_uint64());
    }
    return std::nullopt;
}

// The change an update body asks for, or the sentence that says what is wrong with it.
// `max_metadata_bytes` is the upload's Upload-Metadata limit, which bounds "meta" too.
Result<files::ControlsChange, std::string> parse_change(const json::object& body,
                                                        std::size_t max_metadata_bytes) {
    files::ControlsChange change;
    if (body.contains("expires_in_s") && body.contains("expires")) {
        return fail(std::string("send expires_in_s or expires, not both"));
    }
    for (const auto& member : body) {
        const std::string_view key = member.key();
        const json::value& v = member.value();
        if (key == "price_msat") {
            const auto price = whole_number(v);
            if (!price || *price < 0) return fail(std::string("price_msat must be a whole number of msat (0: free)"));
            change.price_msat = *price;
        } else if (key == "expires_in_s") {
            const auto seconds = whole_number(v);
            if (!seconds || *seconds < 1) {
                return fail(std::string("expires_in_s must be a whole number of seconds, at least 1"));
            }
            change.expires_in_s = std::optional<std::int64_t>(*seconds);
        } else if (key == "expires") {
            if (!v.is_null()) {
                return fail(std::string("expires can only be null (no expiry); set one with expires_in_s"));
            }
            change.expires_in_s = std::optional<std::int64_t>();
        } else if (key == "max_downloads") {
            if (v.is_null()) {
                change.max_downloads = std::optional<std::uint64_t>();
                continue;
            }
            const auto limit = whole_number(v);
            if (!limit || *limit < 1) {
                return fail(std::string("max_downloads must be a whole number, at least 1, or null"));
            }
            change.max_downloads = std::optional<std::uint64_t>(static_cast<std::uint64_t>(*limit));
        } else if (key == "revoked") {
            if (!v.is_bool()) return fail(std::string("revoked must be true or false"));
            change.revoked = v.as_bool();
        } else if (key == files::kMetaKey) {
            if (!v.is_string()) return fail(std::string("meta must be a string (base64url)"));
            const std::string_view meta = v.as_string();
            if (auto problem = files::meta_problem(meta, max_metadata_bytes)) {
                return fail(std::move(*problem));
            }
            change.meta = std::string(meta);
        } else {
            return fail(fmt::format(
                "unknown member '{}' (price_msat, expires_in_s, expires, max_downloads, revoked, meta)",
                key.substr(0, 64)));
        }
    }
    return change;
}

}  // namespace

std::string App::file_state_json(const store::FileRecord& file) {
    json::object body;
    body["id"] = file.file_id;
    body["size_bytes"] = file.size_bytes;
    body["meta"] = file.meta;
    body["created"] = file.created_s;
    body["price_msat"] = file.price_msat;
    if (file.expires_s) body["expires"] = *file.expires_s; else body["expires"] = nullptr;
    if (file.max_downloads) body["max_downloads"] = *file.max_downloads; else body["max_downloads"] = nullptr;
    body["downloads"] = file.downloads;
    body["revoked"] = file.revoked;
    return json::serialize(body);
}

awaitable<void> App::send_link_refusal(Exchange& ex, files::LinkRefusal refusal,
                                       const store::FileRecord& file) {
    switch (refusal) {
        case files::LinkRefusal::revoked:
            co_return co_await send_problem(ex, Problem::link_revoked, "the owner revoked this link");
        case files::LinkRefusal::expired: {
            const std::string detail =
                fmt::format("this link expired on {}", http_date(file.expires_s.value_or(0)));
            co_return co_await send_problem(ex, Problem::link_expired, detail);
        }
        case files::LinkRefusal::download_limit_reached: {
            const std::string detail = fmt::format("this link's limit of {} download{} was reached",
                                                   file.max_downloads.value_or(0),
                                                   file.max_downloads.value_or(0) == 1 ? "" : "s");
            co_return co_await send_problem(ex, Problem::download_limit_reached, detail);
        }
    }
    co_await send_problem(ex, Problem::gone, "this link no longer works");
}

awaitable<void> App::owned_file_update(Exchange& ex, const std::string& file_id) {
    if (m_accounts == nullptr) co_return co_await send_problem(ex, Problem::not_found, "no such file");
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) co_return co_await send_problem(ex, Problem::unauthorized, "log in first");

    const std::size_t max_metadata_bytes = m_uploads.limits().max_metadata_bytes;
    const std::size_t body_bytes_max = kFileUpdateBodyBytesMax + max_metadata_bytes;
    if (ex.content_length() && *ex.content_length() > body_bytes_max) {
        co_return co_await send_problem(
            ex, Problem::payload_too_large,
            fmt::format("the request body may be at most {} bytes", body_bytes_max));
    }
    std::string text;
    std::array<std::uint8_t, kFileUpdateReadBytes> buffer{};
    for (;;) {
        const auto n = co_await ex.read_body(buffer);
        if (!n) co_return;  // the connection failed: nobody to answer
        if (*n == 0) break;
        text.append(reinterpret_cast<const char*>(buffer.data()), *n);
        if (text.size() > body_bytes_max) {
            co_return co_await send_problem(
                ex, Problem::payload_too_large,
                fmt::format("the request body may be at most {} bytes", body_bytes_max));
        }
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) {
        co_return co_await send_problem(ex, Problem::bad_request, "the body must be a JSON object");
    }

    // Ownership before anything else about the file: another account's file and a missing one
    // get the same 404.
    auto owned = m_accounts->accounts.get_file(*caller.principal, file_id);
    if (!owned) co_return co_await send_account_failure(ex, owned.error());

    auto change = parse_change(parsed.as_object(), max_metadata_bytes);
    if (!change) co_return co_await send_problem(ex, Problem::bad_request, change.error());
    auto updated = m_files.update_controls(file_id, *change);
    if (!updated) {
        switch (updated.error().code) {
            case files::FileError::not_found:
                // Owned but without a file record: the upload has not completed.
                co_return co_await send_problem(ex, Problem::conflict, "the file's upload is not complete yet");
            case files::FileError::invalid:
                co_return co_await send_problem(ex, Problem::bad_request, updated.error().message);
            case files::FileError::storage:
                break;
        }
        co_return co_await send_problem(ex, Problem::internal, "storage failure");
    }
    co_await send_text(ex, http::status::ok, file_state_json(*updated), "application/json");
}

}  // namespace satload::server
