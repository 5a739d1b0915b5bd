// Text forms of sizes and durations on the command line: "8MiB", "64G", "512k", "4096";
// "30s", "15m", "24h", "7d". Strict: digits then one known unit, no sign, no overflow.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace satload::client {

// Units: B (or none), K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, all powers of 1024, any case.
[[nodiscard]] std::optional<std::uint64_t> parse_size_bytes(std::string_view text);
// Units: s (or none), m, h, d.
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace satload::client
