// Fuzzes the payment record log's line parser (payments/buffered_payment_store.h), which reads
// what a killed process left. No crash; an accepted line is a record that may wait, and its
// own line reads back as the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "payments/buffered_payment_store.h"

namespace payments = satload::payments;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto a = payments::parse_attempt_log_line(text);
    if (!a) return 0;
    if (a->held || a->state == payments::AttemptState::pending) std::abort();
    const auto line = payments::attempt_log_line(*a);
    if (!line) std::abort();
    const auto b = payments::parse_attempt_log_line(*line);
    if (!b) std::abort();
    if (b->payer != a->payer || b->file_id != a->file_id || b->attempt_no != a->attempt_no || b->state != a->state ||
        b->uploader != a->uploader || b->referrer != a->referrer || b->price_msat != a->price_msat ||
        b->uploader_msat != a->uploader_msat || b->referrer_msat != a->referrer_msat ||
        b->platform_msat != a->platform_msat || b->created_s != a->created_s || b->expires_s != a->expires_s ||
        b->payee != a->payee || *payments::attempt_log_line(*b) != *line) {
        std::abort();
    }
    return 0;
}
