// Pins down the --blobs URL refusals the fuzz target (fuzz/s3_url_fuzz.cpp) asks for: a host
// or region no request could carry, a port over 16 bits, a parameter given twice, and parts
// of the URL the parser would otherwise drop unread.
#include "s3/s3_blob_store.h"

#include <gtest/gtest.h>

namespace satload::s3 {
namespace {

void expect_refused(std::string_view url) {
    auto c = parse_s3_url(url);
    EXPECT_FALSE(c) << url;
    if (!c) {
        EXPECT_FALSE(c.error().message.empty());
    }
}

// The endpoint host goes into the Host header and the resolver, the region into every
// signature's scope: only a DNS name or IPv4 address, and [A-Za-z0-9._-], are taken.
TEST(S3UrlStrict, HostAndRegionAreWhatARequestCanCarry) {
    for (const char* url : {
             "s3://satload/?region=us-east-0&endpoint=http://'0.0.0.2:80",  // the fuzz target's
                                                                            // find
             "s3://satload?endpoint=http://rgw%250D%250AX-Evil:7480",       // CR LF into Host
             "s3://satload?endpoint=http://[::1]:7480",  // brackets reach the resolver
             "s3://satload?endpoint=http://127.0.0.1:7480&region=eu%0D%0Ax",
             "s3://satload?endpoint=http://127.0.0.1:7480&region=eu/west",  // a scope separator
         }) {
        expect_refused(url);
    }
    auto c = parse_s3_url("s3://satload?endpoint=http://RGW-1.example:7480&region=zone_group.1");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.host, "RGW-1.example");
    EXPECT_EQ(c->endpoint.region, "zone_group.1");
}

// Boost.URL's port_number() wraps 65616 into 80: the port written is the port used, or the URL
// is refused.
TEST(S3UrlStrict, PortIsNeverWrapped) {
    expect_refused("s3://satload?endpoint=http://127.0.0.1:65616");
    expect_refused("s3://satload?endpoint=http://127.0.0.1:99999999999999999999");
    expect_refused("s3://satload?endpoint=http://127.0.0.1:0");
    auto c = parse_s3_url("s3://satload?endpoint=http://127.0.0.1:65535");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.port, 65535);
    c = parse_s3_url("s3://satload?endpoint=http://127.0.0.1:07480");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.port, 7480);
}

// Nothing is silently dropped or overridden: each parameter once, and no user, port or
// fragment on the bucket, no user, query or fragment on the endpoint.
TEST(S3UrlStrict, NothingIsDroppedUnread) {
    for (const char* url : {
             "s3://satload?endpoint=http://a:1&endpoint=http://b:2",
             "s3://satload?endpoint=http://a:1&region=x&region=y",
             "s3://key:secret@satload?endpoint=http://127.0.0.1:7480",
             "s3://satload:9000?endpoint=http://127.0.0.1:7480",
             "s3://satload?endpoint=http://127.0.0.1:7480#x",
             "s3://satload?endpoint=http://key:secret@127.0.0.1:7480",
             "s3://satload?endpoint=http://127.0.0.1:7480?x",
             "s3://satload?endpoint=http://127.0.0.1:7480%23x",
         }) {
        expect_refused(url);
    }
}

}  // namespace
}  // namespace satload::s3
