// Interop helper for tests/interop/http_ece.test.mjs: RFC 8188 encryption and decryption of
// stdin to stdout with satload's crypto layer, so the npm http_ece package can check it.
//   ece_tool encrypt|decrypt --ikm HEX [--rs N] [--salt HEX]
// On failure: one line on stderr, exit status 1.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "crypto/ece.h"
#include "crypto/primitives.h"

namespace {

using namespace satload;
namespace ece = satload::crypto::ece;

constexpr std::size_t kReadChunkBytes = 1u << 16;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "ece_tool: %s\n", message.c_str());
    std::exit(1);
}

struct Options {
    std::string mode;
    ece::Key ikm{};
    std::optional<ece::Salt> salt;
    std::uint32_t record_size = ece::kDefaultRecordSize;
};

template <std::size_t N>
std::array<std::uint8_t, N> fixed_hex(std::string_view text, const char* what) {
    auto bytes = hex_decode(text);
    if (!bytes || bytes->size() != N) {
        die(std::string(what) + " must be " + std::to_string(N) + " bytes of hex");
    }
    std::array<std::uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    crypto::secure_wipe(bytes->data(), bytes->size());
    return out;
}

Options parse_args(int argc, char** argv) {
    if (argc < 2) die("usage: ece_tool encrypt|decrypt --ikm HEX [--rs N] [--salt HEX]");
    Options o;
    o.mode = argv[1];
    if (o.mode != "encrypt" && o.mode != "decrypt") die("unknown mode '" + o.mode + "'");
    bool have_ikm = false;
    for (int i = 2; i < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) die("missing value for " + std::string(flag));
        const std::string_view value = argv[i + 1];
        if (flag == "--ikm") {
            o.ikm = fixed_hex<ece::kKeyBytes>(value, "--ikm");
            have_ikm = true;
        } else if (flag == "--salt") {
            o.salt = fixed_hex<ece::kSaltBytes>(value, "--salt");
        } else if (flag == "--rs") {
            const std::string digits(value);
            char* end = nullptr;
            const unsigned long rs = std::strtoul(digits.c_str(), &end, 10);
            const bool all_digits = digits.find_first_not_of("0123456789") == std::string::npos;
            if (digits.empty() || !all_digits || *end != '\0' || rs < ece::kMinRecordSize ||
                rs > ece::kMaxRecordSize) {
                die("--rs must be between " + std::to_string(ece::kMinRecordSize) + " and " +
                    std::to_string(ece::kMaxRecordSize));
            }
            o.record_size = static_cast<std::uint32_t>(rs);
        } else {
            die("unknown option " + std::string(flag));
        }
    }
    if (!have_ikm) die("--ikm is required");
    return o;
}

void write_all(ByteSpan data) {
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
        die("write to stdout failed");
    }
}

// Reads up to `out.size()` bytes, stopping early only at end of input.
std::size_t read_full(std::span<std::uint8_t> out) {
    std::size_t got = 0;
    while (got < out.size()) {
        const std::size_t n = std::fread(out.data() + got, 1, out.size() - got, stdin);
        if (n == 0) {
            if (std::ferror(stdin)) die("read from stdin failed");
            break;
        }
        got += n;
    }
    return got;
}

// Streams stdin through the encoder one record at a time. A record is only written once the
// next one has been read, because the last record is known only at end of input.
int run_encrypt(const Options& o) {
    ece::Header header;
    header.record_size = o.record_size;
    if (o.salt) {
        header.salt = *o.salt;
    } else {
        crypto::random_bytes(header.salt);
    }
    ece::Encoder encoder(o.ikm, header);
    write_all(ece::serialize_header(header));
    const std::size_t per = encoder.plaintext_per_record();
    Bytes current(per), next(per), record(header.record_size);
    std::size_t current_bytes = read_full(current);
    for (std::uint64_t index = 0;; ++index) {
        // Only a full record can be followed by more; a short one (0 included) is the last.
        const std::size_t next_bytes = current_bytes == per ? read_full(next) : 0;
        const bool last = current_bytes < per;
        const std::size_t n = encoder.encrypt_record(
            index, ByteSpan(current).first(current_bytes), last, record);
        write_all(ByteSpan(record).first(n));
        if (last) break;
        std::swap(current, next);
        current_bytes = next_bytes;
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}

int run_decrypt(const Options& o) {
    ece::StreamDecoder decoder(o.ikm);
    Bytes in(kReadChunkBytes);
    Bytes out;
    for (;;) {
        const std::size_t n = read_full(in);
        if (n == 0) break;
        out.clear();
        auto r = decoder.push(ByteSpan(in).first(n), out);
        write_all(out);
        if (!r) die(r.error().message());
    }
    out.clear();
    auto r = decoder.finish(out);
    write_all(out);
    if (!r) die(r.error().message());
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_args(argc, argv);
    const int status = options.mode == "encrypt" ? run_encrypt(options) : run_decrypt(options);
    crypto::secure_wipe(options.ikm);
    return status;
}
