// Serving the web app (web/, built by Vite into the web root): every file is read into memory
// once at start-up and answered from there, with caching and security headers; the upload page
// at /, the link page at /f/<id>, the account pages at /login, /my-files, /wallet and /account,
// every other file at its own path.
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "core/checksum.h"
#include "core/ids.h"
#include "server/app.h"

namespace satload::server {

// Limits on what is loaded: the app is a few hundred KiB; a web root pointing somewhere
// unintended (a home directory) must not fill the server's memory.
inline constexpr std::size_t kMaxWebFiles = 512;
inline constexpr std::uintmax_t kMaxWebFileBytes = 16u << 20;
inline constexpr std::uintmax_t kMaxWebTotalBytes = 64u << 20;

struct WebAsset {
    std::string body;
    std::string content_type;
    std::string etag;  // strong: a hash of the bytes
    bool immutable = false;
};

struct WebAssets {
    std::filesystem::path root;
    // By URL path ("/index.html", "/assets/index-D2So8UEo.js").
    std::map<std::string, WebAsset, std::less<>> files;

    [[nodiscard]] const WebAsset* find(std::string_view path) const {
        const auto it = files.find(path);
        return it == files.end() ? nullptr : &it->second;
    }
};

namespace {

constexpr std::string_view kUploadPage = "index.html";
constexpr std::string_view kLinkPage = "link.html";
// The account pages, each at one path without ".html".
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kAccountPages = {{
    {"/login", "login.html"},
    {"/my-files", "files.html"},
    {"/wallet", "wallet.html"},
    {"/account", "account.html"},
}};

std::string_view account_page_of(std::string_view path) {
    for (const auto& [route, file] : kAccountPages) {
        if (path == route) return file;
    }
    return {};
}
// Vite names everything under assets/ by a hash of its content, so such a URL's bytes never
// change; everything else (pages, the service worker, the icon) is revalidated every time.
constexpr std::string_view kImmutablePrefix = "/assets/";
constexpr std::string_view kImmutableCache = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidateCache = "no-cache";

// Only our own files, no inline script or style, no plugins, no framing, no <base> tricks.
// The service worker and the download frame are same-origin (worker-src, frame-src).
// 'wasm-unsafe-eval' lets our own scripts compile WebAssembly (Argon2id for the login); it
// allows no JavaScript eval.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Served when the web root holds no app: the server still works for the CLI.
constexpr std::string_view kFallbackPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>satload</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>satload</h1>
<p>The web app is not installed on this server (its operator can build it with
<code>make build</code>, or name its directory with <code>satload serve --web-root DIR</code>).</p>
<p>A link to an end-to-end encrypted file downloads and decrypts with
<code>satload get '&lt;the link&gt;'</code>; its key is in the link's fragment, which your
browser never sends to the server.</p>
</main></body></html>
)";

std::string_view content_type_of(const std::filesystem::path& path) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"},
    }};
    const std::string ext = path.extension().string();
    for (const auto& [e, type] : kTypes) {
        if (ext == e) return type;
    }
    return {};
}

bool read_file(const std::filesystem::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

std::filesystem::path default_web_root() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "web";
    return exe.parent_path() / "web";
}

// Whether an If-None-Match header names `etag` (or "*"); weak comparison, as RFC 9110 13.1.2
// asks for If-None-Match.
bool none_match(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view tag = header.substr(0, comma);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == "*" || tag == etag) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

void set_security_headers(http::response_header<>& res) {
    res.set("Content-Security-Policy", kContentSecurityPolicy);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Frame-Options", "DENY");
    res.set("Cross-Origin-Opener-Policy", "same-origin");
    res.set("Cross-Origin-Resource-Policy", "same-origin");
}

}  // namespace

std::shared_ptr<const WebAssets> load_web_assets(const ServerOptions& options) {
    namespace fs = std::filesystem;
    auto web = std::make_shared<WebAssets>();
    web->root = options.web_root.empty() ? default_web_root() : fs::path(options.web_root);
    std::error_code ec;
    if (!fs::is_directory(web->root, ec)) {
        fmt::print(stderr, "web app: {} not found; / and /f/<id> serve a notice page\n",
                   web->root.string());
        return web;
    }
    std::uintmax_t total_bytes = 0;
    fs::recursive_directory_iterator it(web->root, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const fs::path& path = it->path();
        // Dot files and directories (Vite's .vite/ manifest) are build by-products.
        if (path.filename().string().starts_with('.')) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        const std::string_view type = content_type_of(path);
        const std::uintmax_t size = it->file_size(ec);
        if (type.empty() || ec || size > kMaxWebFileBytes) {
            fmt::print(stderr, "web app: skipping {} (unknown type or too large)\n", path.string());
            continue;
        }
        if (web->files.size() >= kMaxWebFiles || total_bytes + size > kMaxWebTotalBytes) {
            fmt::print(stderr,
                       "web app: {} holds more than {} files or {} bytes; the rest is not served\n",
                       web->root.string(), kMaxWebFiles, kMaxWebTotalBytes);
            break;
        }
        WebAsset asset;
        if (!read_file(path, asset.body)) {
            fmt::print(stderr, "web app: cannot read {}\n", path.string());
            continue;
        }
        total_bytes += asset.body.size();
        asset.content_type = std::string(type);
        Xxh3Checksum sum;
        sum.update(as_bytes(asset.body));
        asset.etag = "\"" + sum.finish_hex() + "\"";
        const std::string url = "/" + fs::relative(path, web->root).generic_string();
        asset.immutable = url.starts_with(kImmutablePrefix);
        web->files.emplace(url, std::move(asset));
    }
    if (!web->find("/" + std::string(kUploadPage)) || !web->find("/" + std::string(kLinkPage))) {
        fmt::print(stderr, "web app: {} lacks {} or {}; / and /f/<id> serve a notice page\n",
                   web->root.string(), kUploadPage, kLinkPage);
    } else {
        fmt::print(stderr, "web app: {} files from {}\n", web->files.size(), web->root.string());
    }
    return web;
}

bool App::is_web_file(std::string_view path) const {
    if (!account_page_of(path).empty()) return true;
    // Pages have their own routes (/, /f/<id>, the account pages), so each has one URL.
    return m_web && !path.ends_with(".html") && m_web->find(path) != nullptr;
}

awaitable<void> App::web_file(Exchange& ex, std::string_view path) {
    if (const std::string_view page = account_page_of(path); !page.empty()) {
        co_return co_await web_page(ex, page);
    }
    const Request& req = ex.request();
    const WebAsset* asset = m_web ? m_web->find(path) : nullptr;
    if (asset == nullptr)
        co_return co_await send_problem(ex, Problem::not_found, "no such resource");
    const auto inm = req.find(http::field::if_none_match);
    const bool not_modified = inm != req.end() && none_match(inm->value(), asset->etag);
    StringResponse res{not_modified ? http::status::not_modified : http::status::ok, req.version()};
    res.set(http::field::etag, asset->etag);
    res.set(http::field::cache_control, asset->immutable ? kImmutableCache : kRevalidateCache);
    set_security_headers(res.base());
    res.keep_alive(ex.keep_alive());
    if (!not_modified) {
        res.set(http::field::content_type, asset->content_type);
        res.body() = asset->body;
    }
    res.prepare_payload();
    co_await ex.send(std::move(res));
}

awaitable<void> App::web_page(Exchange& ex, std::string_view file_name) {
    const std::string path = "/" + std::string(file_name);
    if (m_web && m_web->find(path)) co_return co_await web_file(ex, path);
    const Request& req = ex.request();
    StringResponse res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, kRevalidateCache);
    set_security_headers(res.base());
    res.keep_alive(ex.keep_alive());
    res.body() = std::string(kFallbackPage);
    res.prepare_payload();
    co_await ex.send(std::move(res));
}

awaitable<void> App::link_page(Exchange& ex, const std::string& file_id) {
    if (!is_file_id(file_id))
        co_return co_await send_problem(ex, Problem::not_found, "no such file");
    // One page for every id: it learns the id from its URL and the key from the fragment.
    co_await web_page(ex, kLinkPage);
}

}  // namespace satload::server
