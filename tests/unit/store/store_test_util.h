// Helpers shared by the store tests: a fresh temporary directory per test, deterministic
// canonical ids and deterministic pseudo-random bytes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/ids.h"

namespace satload::store::testing {

// A new, empty directory under $SATLOAD_TEST_TMP (or the system temp directory), removed
// with everything in it when the test ends.
class TempDir {
public:
    TempDir() {
        const char* env = std::getenv("SATLOAD_TEST_TMP");
        const std::filesystem::path base =
            env && *env ? std::filesystem::path(env) : std::filesystem::temp_directory_path();
        std::filesystem::create_directories(base);
        std::string pattern = (base / "store-XXXXXX").string();
        const char* made = ::mkdtemp(pattern.data());
        if (!made) ADD_FAILURE() << "mkdtemp failed under " << base;
        // Canonical, so paths compare equal to what the kernel reports (/proc/self/fd, strace -y).
        m_path = std::filesystem::canonical(pattern);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

inline std::vector<std::uint8_t> pseudo_random_bytes(std::size_t size, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::vector<std::uint8_t> out(size);
    for (auto& b : out) b = static_cast<std::uint8_t>(gen());
    return out;
}

inline std::string make_upload_id(std::uint32_t seed) {
    UploadIdBytes bytes{};
    const auto random = pseudo_random_bytes(bytes.size(), seed);
    std::copy(random.begin(), random.end(), bytes.begin());
    return upload_id_text(bytes);
}

inline std::string make_file_id(std::uint32_t seed) {
    FileIdBytes bytes{};
    const auto random = pseudo_random_bytes(bytes.size(), seed ^ 0x5eed5eedU);
    std::copy(random.begin(), random.end(), bytes.begin());
    return file_id_text(bytes);
}

// Large sizes only when SATLOAD_SMALL_TESTS is unset (the ASan build sets it).
inline bool small_tests() {
    const char* env = std::getenv("SATLOAD_SMALL_TESTS");
    return env && *env;
}

}  // namespace satload::store::testing
