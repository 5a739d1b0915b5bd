// Pins down the POSIX helpers under the blob store: errno mapping (ENOSPC and EDQUOT are
// no_space), full writes and reads, and descriptors closed by their owner.
#include "store/posix_file.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store_test_util.h"

namespace satload::store {
namespace {

// Each errno the store can meet maps to the outcome callers act on, and the message names
// the operation.
TEST(PosixFile, ErrnoMapping) {
    EXPECT_EQ(errno_failure(ENOSPC, "write").code, StoreError::no_space);
    EXPECT_EQ(errno_failure(EDQUOT, "write").code, StoreError::no_space);
    EXPECT_EQ(errno_failure(ENOENT, "open").code, StoreError::not_found);
    EXPECT_EQ(errno_failure(EEXIST, "create").code, StoreError::exists);
    EXPECT_EQ(errno_failure(EIO, "fsync").code, StoreError::io);
    EXPECT_EQ(errno_failure(EACCES, "open").code, StoreError::io);
    EXPECT_EQ(errno_failure(EIO, "fsync blob").message.rfind("fsync blob: ", 0), 0u);
}

// A full device (the kernel's /dev/full answers every write with ENOSPC) is no_space, not a
// generic I/O error, so the server can answer 507 rather than 500.
TEST(PosixFile, FullDeviceIsNoSpace) {
    UniqueFd fd(::open("/dev/full", O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid()) << "/dev/full is missing";
    const auto data = testing::pseudo_random_bytes(100, 1);
    std::uint64_t written = 99;
    auto r = write_all_at(fd.get(), 0, data, written);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreError::no_space);
    EXPECT_EQ(written, 0u);
}

// Writes of many pipe-buffer-sized pieces and reads past the end of a file behave as a loop
// over short transfers should: everything written, reads stop at end of file.
TEST(PosixFile, WriteAllAndReadFull) {
    testing::TempDir dir;
    const auto path = dir.path() / "f";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
    const auto data = testing::pseudo_random_bytes(1 << 20, 2);
    std::uint64_t written = 0;
    ASSERT_TRUE(write_all_at(fd.get(), 10, data, written));
    EXPECT_EQ(written, data.size());

    std::vector<std::uint8_t> back(data.size() + 100);
    auto n = read_full_at(fd.get(), 10, back);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, data.size());
    back.resize(*n);
    EXPECT_EQ(back, data);
    n = read_full_at(fd.get(), 10 + data.size(), back);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
}

// UniqueFd closes on destruction and on move-assignment, and release() hands the fd over.
TEST(PosixFile, UniqueFdOwnership) {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(raw, 0);
    { UniqueFd fd(raw); }
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);

    raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    const int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    b = UniqueFd(other);
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // the old descriptor was closed
    const int released = b.release();
    EXPECT_EQ(released, other);
    EXPECT_FALSE(b.valid());
    EXPECT_EQ(::close(released), 0);
}

}  // namespace
}  // namespace satload::store
