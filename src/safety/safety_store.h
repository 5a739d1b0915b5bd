// The trust-and-safety records (reports, takedowns, owner notices, the blocklist of digests,
// account flags, the admin log) and the store interface that keeps them. No file key is ever
// part of a record: reports keep a link without its #fragment.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/blob_store.h"

namespace satload::safety {

using store::StoreFailure;
using store::StoreResult;
using AccountId = std::int64_t;

enum class Category { copyright, malware, abuse, other };
[[nodiscard]] std::string_view category_name(Category c);
[[nodiscard]] std::optional<Category> parse_category(std::string_view text);

enum class ReportState { open, upheld, dismissed };
[[nodiscard]] std::string_view report_state_name(ReportState s);

struct ReportRecord {
    std::int64_t report_id = 0;  // assigned by insert_report
    std::string reference;       // what the reporter is given (random, unguessable)
    std::string file_id;
    std::string link;            // as reported, without its fragment; may be empty
    Category category = Category::other;
    std::string reason;
    std::string contact;
    std::string evidence;
    std::int64_t created_s = 0;
    ReportState state = ReportState::open;
    std::int64_t resolved_s = 0;  // 0 while open
};

// A file disabled by the operator. Kept after a restore (restored_s set) as the record.
struct TakedownRecord {
    std::int64_t takedown_id = 0;  // assigned by insert_takedown
    std::string file_id;
    std::int64_t report_id = 0;
    std::optional<AccountId> owner;  // nullopt: an anonymous upload
    std::string sha256_hex;          // the ciphertext digest, kept as evidence and blocked
    Category category = Category::other;
    std::string reason;
    std::int64_t created_s = 0;
    std::int64_t restored_s = 0;  // 0 while in force
};

// What an owner is told of a takedown, and their counter-notice.
struct NoticeRecord {
    std::int64_t notice_id = 0;  // assigned by insert_notice
    AccountId account = 0;
    std::int64_t takedown_id = 0;
    std::string file_id;
    std::string text;
    std::int64_t created_s = 0;
    std::string counter_text;  // empty until the owner answers
    std::int64_t counter_s = 0;
};

// One line of the append-only admin log.
struct LogEntry {
    std::int64_t seq = 0;  // assigned by append_log, strictly increasing
    std::int64_t at_s = 0;
    std::string who;
    std::string action;
    std::string target;
    std::string why;
};

// Counts per category, indexed by static_cast<size_t>(Category).
inline constexpr std::size_t kCategoryCount = 4;
using CategoryCounts = std::array<std::uint64_t, kCategoryCount>;

// What the transparency report counts: actions whose time is at or after since_s.
struct TransparencyCounts {
    std::int64_t since_s = 0;
    CategoryCounts reports{};         // received
    CategoryCounts takedowns{};       // files disabled
    CategoryCounts reinstatements{};  // takedowns lifted (by the takedown's category)
    CategoryCounts dismissals{};      // reports closed without action
    CategoryCounts claims{};          // rights-holder claims upheld (earnings redirected)
    std::uint64_t suspensions = 0;
    std::uint64_t unsuspensions = 0;
    std::uint64_t freezes = 0;
    std::uint64_t unfreezes = 0;
};

struct AccountFlags {
    AccountId account = 0;
    std::int64_t frozen_s = 0;  // 0: not frozen
};

class SafetyStore {
public:
    virtual ~SafetyStore() = default;

    virtual StoreResult<ReportRecord> insert_report(const ReportRecord& report) = 0;
    virtual StoreResult<std::optional<ReportRecord>> get_report(std::int64_t report_id) = 0;
    virtual StoreResult<std::vector<ReportRecord>> open_reports(std::size_t limit) = 0;
    // Resolves every open report of `file_id` (an upheld takedown answers them all) or one.
    virtual StoreResult<int> resolve_reports(const std::string& file_id, ReportState state,
                                             std::int64_t at_s) = 0;
    virtual StoreResult<int> resolve_report(std::int64_t report_id, ReportState state,
                                            std::int64_t at_s) = 0;
    // The files with at least one open report of `category` (each once).
    virtual StoreResult<std::vector<std::string>> files_with_open_reports(Category category) = 0;

    // A takedown, its notice to the owner (when there is one), the blocked digest and the log
    // line, in one transaction: all or nothing.
    virtual StoreResult<TakedownRecord> insert_takedown(const TakedownRecord& takedown,
                                                        const std::optional<NoticeRecord>& notice,
                                                        const LogEntry& log) = 0;
    // Every takedown in force (restored_s = 0).
    virtual StoreResult<std::vector<TakedownRecord>> active_takedowns() = 0;
    // Lifts the takedown of `file_id` and unblocks its digest (unless another takedown in force
    // has it), with the log line, in one transaction. not_found when none is in force.
    virtual StoreResult<TakedownRecord> restore_takedown(const std::string& file_id, std::int64_t at_s,
                                                         const LogEntry& log) = 0;
    virtual StoreResult<std::uint64_t> strikes(AccountId account) = 0;

    virtual StoreResult<std::vector<NoticeRecord>> notices(AccountId account, std::size_t limit) = 0;
    // not_found unless the notice is the account's; exists when already answered.
    virtual StoreResult<NoticeRecord> counter_notice(AccountId account, std::int64_t notice_id,
                                                     const std::string& text, std::int64_t at_s) = 0;

    virtual StoreResult<std::vector<std::string>> blocked_digests() = 0;

    virtual StoreResult<std::vector<AccountFlags>> frozen_accounts() = 0;
    virtual StoreResult<void> set_frozen(AccountId account, std::int64_t frozen_s, const LogEntry& log) = 0;

    virtual StoreResult<LogEntry> append_log(const LogEntry& entry) = 0;
    // Entries with seq > after_seq, oldest first.
    virtual StoreResult<std::vector<LogEntry>> log(std::int64_t after_seq, std::size_t limit) = 0;

    virtual StoreResult<TransparencyCounts> transparency(std::int64_t since_s) = 0;
};

}  // namespace satload::safety
