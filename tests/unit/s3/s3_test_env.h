// Shared by the S3 tests that need a real S3 service: the store and client from the
// environment (SATLOAD_S3_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, as printed by
// scripts/ceph.sh start), fresh random ids, and pseudo-random bytes.
#pragma once

#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/ids.h"
#include "crypto/primitives.h"
#include "s3/s3_blob_store.h"

namespace satload::s3::testing {

inline constexpr const char* kNeedsS3 =
    "needs a real S3 service: set SATLOAD_S3_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(eval \"$(scripts/ceph.sh start DIR PORT)\" starts Ceph RGW and prints them)";

inline bool s3_configured() {
    for (const char* name : {"SATLOAD_S3_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}) {
        const char* value = std::getenv(name);
        if (value == nullptr || *value == '\0') return false;
    }
    return true;
}

// The configuration from SATLOAD_S3_URL with the smallest part S3 allows, so a few parts
// take little data; `bucket_suffix` gives a test a bucket of its own.
inline std::optional<S3StoreConfig> env_config(const std::string& bucket_suffix = {}) {
    auto config = parse_s3_url(std::getenv("SATLOAD_S3_URL"));
    EXPECT_TRUE(config) << (config ? "" : config.error().message);
    if (!config) return std::nullopt;
    config->part_size_bytes = kMinPartBytes;
    config->endpoint.bucket += bucket_suffix;
    return *config;
}

inline Credentials env_credentials() {
    return Credentials(std::getenv("AWS_ACCESS_KEY_ID"), std::getenv("AWS_SECRET_ACCESS_KEY"));
}

inline std::unique_ptr<S3BlobStore> open_env_store(const std::string& bucket_suffix = {}) {
    auto config = env_config(bucket_suffix);
    if (!config) return nullptr;
    auto store = S3BlobStore::open(*config, env_credentials());
    EXPECT_TRUE(store) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
}

// Random ids: runs share the bucket, so ids must not repeat across runs.
inline std::string random_upload_id() {
    UploadIdBytes bytes{};
    crypto::random_bytes(bytes);
    return upload_id_text(bytes);
}
inline std::string random_file_id() {
    FileIdBytes bytes{};
    crypto::random_bytes(bytes);
    return file_id_text(bytes);
}
inline std::string random_suffix() {
    std::array<std::uint8_t, 4> bytes{};
    crypto::random_bytes(bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "-";
    for (auto b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 15]);
    }
    return out;
}

inline std::vector<std::uint8_t> pseudo_random_bytes(std::size_t size, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::vector<std::uint8_t> out(size);
    for (auto& b : out) b = static_cast<std::uint8_t>(gen());
    return out;
}

}  // namespace satload::s3::testing
