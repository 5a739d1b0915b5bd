// The outcomes of client operations that reach the user: one code per kind of failure and
// one line of text for stderr (never a secret, never raw server bytes).
#pragma once

#include <string>

#include "core/result.h"

namespace satload::client {

enum class ErrorCode {
    bad_link,          // a link that does not have the form <base>/f/<id>[?r=<ref>]#<secret>
    bad_url,           // a server URL that is not http(s)://host[:port][/path]
    bad_argument,      // an option out of range (part count, chunk size, ...)
    file_io,           // reading the source or writing the target failed
    target_exists,     // the download target exists and --force was not given
    busy,              // another satload process is working on the same upload or download
    network,           // resolve, connect, TLS, send or receive failed or timed out
    http_status,       // the server answered with an unexpected status (problem+json shown)
    protocol,          // the server's answer is malformed or violates the protocol
    not_found,         // the file or upload does not exist (404 / 410)
    payment_required,  // 402: the file has a price (paying is not supported yet)
    authentication_failed,  // a record or the metadata did not decrypt: tampered or wrong key
    truncated,         // the ciphertext ended before its last record
    size_mismatch,     // sizes in the metadata, the API and the blob disagree
    file_changed,      // the source file changed while it was being uploaded
    remote_changed,    // the blob changed (ETag) between resumed download runs
    state,             // a state file is unreadable or inconsistent
};

struct Error {
    ErrorCode code;
    std::string message;  // one line, for the user
};

template <class T>
using ClientResult = Result<T, Error>;

[[nodiscard]] inline tl::unexpected<Error> client_error(ErrorCode code, std::string message) {
    return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace satload::client
