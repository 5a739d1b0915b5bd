// Pins down AWS Signature Version 4 against AWS's published vectors: cases of the SigV4 test
// suite (service "service", key AKIDEXAMPLE, 2015-08-30) and the worked S3 examples of the S3
// SigV4 documentation (key AKIAIOSFODNN7EXAMPLE, 2013-05-24): canonical request, string to
// sign and the Authorization header, byte for byte.
#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace satload::s3 {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The test suite's common parameters.
const Credentials kSuiteKeys{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
constexpr std::string_view kSuiteDate = "20150830T123600Z";
constexpr std::string_view kSuiteHost = "example.amazonaws.com";

SignableRequest suite_request(std::string method, std::string path, Pairs query,
                              Pairs extra_headers = {}, std::string body = {}) {
    SignableRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = {{"Host", std::string(kSuiteHost)}};
    for (auto& h : extra_headers) r.headers.push_back(std::move(h));
    r.headers.emplace_back("X-Amz-Date", std::string(kSuiteDate));
    r.payload_sha256_hex = hex_encode(crypto::sha256(as_bytes(body)));
    return r;
}

std::string suite_authz(std::string_view signed_names, std::string_view signature) {
    return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
           "SignedHeaders=" +
           std::string(signed_names) + ", Signature=" + std::string(signature);
}

std::string sts_hash(const SignableRequest& r) {
    const std::string sts = string_to_sign(
        kSuiteDate, credential_scope("20150830", "us-east-1", "service"), canonical_request(r));
    return sts.substr(sts.rfind('\n') + 1);
}

struct SuiteCase {
    const char* name;
    SignableRequest request;
    std::string creq;       // expected canonical request
    std::string sts_sha;    // expected last line of the string to sign
    std::string signature;  // expected signature
    std::string signed_names;
};

// Each case of the suite: the canonical request, the string to sign and the signature match.
TEST(SigV4, AwsTestSuiteVectors) {
    const std::string empty_hash(kEmptyPayloadSha256);
    const std::vector<SuiteCase> cases = {
        {"get-vanilla", suite_request("GET", "/", {}),
         "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "host;x-amz-date"},
        {"get-vanilla-query-order-key-case",
         suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
         "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
         "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", "host;x-amz-date"},
        {"get-vanilla-query-order-key",
         suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}),
         "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n"
         "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
         "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1", "host;x-amz-date"},
        {"get-vanilla-query-order-value",
         suite_request("GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}),
         "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\n"
         "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
         "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694", "host;x-amz-date"},
        {"get-vanilla-query-unreserved",
         suite_request("GET", "/",
                       {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                         "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}}),
         "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
         "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
         "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
         "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197", "host;x-amz-date"},
        {"get-vanilla-utf8-query", suite_request("GET", "/", {{"\xe1\x88\xb4", "bar"}}),
         "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
         "host;x-amz-date\n" +
             empty_hash,
         "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
         "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04", "host;x-amz-date"},
        {"get-unreserved",
         suite_request("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       {}),
         "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\n"
         "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
         "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f", "host;x-amz-date"},
        {"get-header-key-duplicate",
         suite_request(
             "GET", "/", {},
             {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
         "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
         "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
             empty_hash,
         "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
         "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
         "host;my-header1;x-amz-date"},
        {"get-header-value-order",
         suite_request("GET", "/", {},
                       {{"My-Header1", "value4"},
                        {"My-Header1", "value1"},
                        {"My-Header1", "value3"},
                        {"My-Header1", "value2"}}),
         "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n"
         "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" +
             empty_hash,
         "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
         "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
         "host;my-header1;x-amz-date"},
        {"get-header-value-trim",
         suite_request("GET", "/", {},
                       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
         "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
         "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
             empty_hash,
         "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
         "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
         "host;my-header1;my-header2;x-amz-date"},
        {"post-vanilla", suite_request("POST", "/", {}),
         "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
             empty_hash,
         "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", "host;x-amz-date"},
        {"post-vanilla-query", suite_request("POST", "/", {{"Param1", "value1"}}),
         "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
         "host;x-amz-date\n" +
             empty_hash,
         "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
         "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11", "host;x-amz-date"},
        // The suite's form post signs Content-Type, Host and X-Amz-Date over a hashed body.
        {"post-x-www-form-urlencoded",
         suite_request("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
                       "Param1=value1"),
         "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
         "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
         "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
         "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
         "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
         "content-type;host;x-amz-date"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(canonical_request(c.request), c.creq);
        EXPECT_EQ(sts_hash(c.request), c.sts_sha);
        EXPECT_EQ(authorization(kSuiteKeys, "us-east-1", "service", kSuiteDate, c.request),
                  suite_authz(c.signed_names, c.signature));
    }
}

// The S3 documentation's examples use this key pair and date.
const Credentials kS3DocKeys{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
constexpr std::string_view kS3DocDate = "20130524T000000Z";

SignableRequest s3_doc_request(std::string method, std::string path, Pairs query, Pairs headers,
                               std::string payload_hash) {
    SignableRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    for (auto& h : headers) r.headers.push_back(std::move(h));
    r.headers.emplace_back("x-amz-content-sha256", payload_hash);
    r.headers.emplace_back("x-amz-date", std::string(kS3DocDate));
    r.payload_sha256_hex = std::move(payload_hash);
    return r;
}

std::string s3_doc_authz(std::string_view signed_names, std::string_view signature) {
    return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
           "SignedHeaders=" +
           std::string(signed_names) + ", Signature=" + std::string(signature);
}

// S3 "GET Object" with Range: bytes=0-9 (the empty payload hash signed).
TEST(SigV4, S3DocGetObjectWithRange) {
    const auto r = s3_doc_request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}},
                                  std::string(kEmptyPayloadSha256));
    EXPECT_EQ(
        canonical_request(r),
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(string_to_sign(kS3DocDate, credential_scope("20130524", "us-east-1", "s3"),
                             canonical_request(r)),
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, r),
              s3_doc_authz("host;range;x-amz-content-sha256;x-amz-date",
                           "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

// S3 "PUT Object" of "Welcome to Amazon S3." to a key with '$' (encoded %24 in the path) and
// extra Date and storage-class headers, all signed.
TEST(SigV4, S3DocPutObject) {
    const std::string body = "Welcome to Amazon S3.";
    const std::string hash = hex_encode(crypto::sha256(as_bytes(body)));
    ASSERT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const auto r = s3_doc_request(
        "PUT", "/test$file.text", {},
        {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
        hash);
    EXPECT_EQ(canonical_request(r),
              "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
              "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" +
                  hash +
                  "\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
                  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" +
                  hash);
    EXPECT_EQ(sts_hash(r).size(), 64u);  // a well-formed string to sign
    EXPECT_EQ(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, r),
              s3_doc_authz("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                           "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

// S3 "GET Bucket lifecycle" (a query name without value signs as "lifecycle=") and "GET
// Bucket (List Objects)" with two sorted query parameters.
TEST(SigV4, S3DocBucketQueries) {
    const std::string empty(kEmptyPayloadSha256);
    const auto lifecycle = s3_doc_request("GET", "/", {{"lifecycle", ""}}, {}, empty);
    EXPECT_EQ(canonical_request(lifecycle).substr(0, 17), "GET\n/\nlifecycle=\n");
    EXPECT_EQ(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, lifecycle),
              s3_doc_authz("host;x-amz-content-sha256;x-amz-date",
                           "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
    const auto list = s3_doc_request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, empty);
    EXPECT_EQ(canonical_request(list).substr(0, 26), "GET\n/\nmax-keys=2&prefix=J\n");
    EXPECT_EQ(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, list),
              s3_doc_authz("host;x-amz-content-sha256;x-amz-date",
                           "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
}

// The signing key depends on every scope part, and a changed byte anywhere changes the
// signature (a signer that ignored a field would pass the vectors above only by luck).
TEST(SigV4, EverySignedPartMatters) {
    auto r = s3_doc_request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}},
                            std::string(kEmptyPayloadSha256));
    const std::string base = authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, r);
    EXPECT_NE(authorization(kS3DocKeys, "us-west-2", "s3", kS3DocDate, r), base);
    EXPECT_NE(authorization(kS3DocKeys, "us-east-1", "s3", "20130524T000001Z", r), base);
    auto other = r;
    other.headers[1].second = "bytes=0-8";
    EXPECT_NE(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, other), base);
    other = r;
    other.payload_sha256_hex = std::string(kUnsignedPayload);
    EXPECT_NE(authorization(kS3DocKeys, "us-east-1", "s3", kS3DocDate, other), base);
    EXPECT_NE(signing_key("a", "20130524", "us-east-1", "s3"),
              signing_key("b", "20130524", "us-east-1", "s3"));
}

// Encoding keeps exactly the unreserved set, uses uppercase hex, and keeps '/' only in paths.
TEST(SigV4, UriEncode) {
    EXPECT_EQ(uri_encode("a-b_c.d~e", false), "a-b_c.d~e");
    EXPECT_EQ(uri_encode("a b/c+d=e*", false), "a%20b%2Fc%2Bd%3De%2A");
    EXPECT_EQ(uri_encode("blobs/x y", true), "blobs/x%20y");
    EXPECT_EQ(uri_encode("\xff", false), "%FF");
}

// The date form SigV4 signs: UTC, basic ISO 8601.
TEST(SigV4, AmzDate) {
    EXPECT_EQ(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1369353600))),
              "20130524T000000Z");
    EXPECT_EQ(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))),
              "20150830T123600Z");
}

}  // namespace
}  // namespace satload::s3
