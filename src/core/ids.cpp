// Id encoding and validation.
#include "core/ids.h"

#include "core/encoding.h"

namespace satload {
namespace {

bool is_canonical(std::string_view text, std::size_t chars, std::size_t bytes) {
    if (text.size() != chars) return false;
    const auto decoded = base64url_decode(text);
    return decoded && decoded->size() == bytes;
}

}  // namespace

std::string file_id_text(const FileIdBytes& bytes) { return base64url_encode(bytes); }
std::string upload_id_text(const UploadIdBytes& bytes) { return base64url_encode(bytes); }

bool is_file_id(std::string_view text) { return is_canonical(text, kFileIdChars, kFileIdBytes); }
bool is_upload_id(std::string_view text) {
    return is_canonical(text, kUploadIdChars, kUploadIdBytes);
}

}  // namespace satload
