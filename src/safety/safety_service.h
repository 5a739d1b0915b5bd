// SafetyService: abuse reports and their review (takedown, dismissal, restore), owner notices
// and counter-notices, strikes and suspension, wallet freezes and the blocklist of taken-down
// ciphertext digests, every operator action written to the append-only admin log. It works on
// links, accounts and digests only: the server cannot read files, and no key is ever kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "files/rate_limiter.h"
#include "safety/safety_store.h"

namespace satload::safety {

// Bounds of a report (characters of UTF-8 text as sent), and of the operator's texts.
inline constexpr std::size_t kReportLinkCharsMax = 2048;
inline constexpr std::size_t kReportReasonCharsMax = 4000;
inline constexpr std::size_t kReportContactCharsMax = 320;
inline constexpr std::size_t kReportEvidenceCharsMax = 8000;
inline constexpr std::size_t kAdminReasonCharsMax = 2000;
inline constexpr std::size_t kCounterNoticeCharsMax = 8000;
inline constexpr std::size_t kAdminNameCharsMax = 64;
// Reports per client address per window: enough for a rights holder with a list, not a flood.
inline constexpr std::uint32_t kReportsPerWindow = 20;
inline constexpr std::int64_t kReportWindowS = 10 * 60;
// The scope reports are counted in when shared (files::PgRateLimiter).
inline constexpr std::string_view kReportRateScope = "abuse_report";
// Upheld takedowns (in force) at which an account is suspended, unless configured.
inline constexpr std::uint64_t kDefaultStrikesToSuspend = 3;
// The reporter's reference: random bytes, base64url.
inline constexpr std::size_t kReferenceBytes = 12;
// Longest listing answered at once.
inline constexpr std::size_t kListingMax = 1000;

enum class SafetyError {
    invalid,       // a field is missing, malformed or too long (see message)
    not_found,     // no such file, report, notice or account
    rate_limited,  // too many reports from one address; see retry_after_s
    conflict,      // the report is not open, the file is already taken down, the notice is answered
    storage,       // the store failed (see message)
};
struct SafetyFailure {
    SafetyError code;
    std::string message;
    std::int64_t retry_after_s = 0;
};
template <class T>
using SafetyResult = Result<T, SafetyFailure>;

// What the review queue and a takedown need to know of a file, from the file and account
// services (injected, so this layer depends on neither).
struct FileFacts {
    std::string sha256_hex;          // the ciphertext digest
    std::optional<AccountId> owner;  // nullopt: an anonymous upload
    std::string owner_name;
    std::uint64_t downloads = 0;
    std::int64_t earnings_msat = 0;  // the owner's share earned by this file
    std::int64_t held_msat = 0;      // the owner's share held under an open copyright report
};
using FileLookup = std::function<std::optional<FileFacts>(const std::string& file_id)>;
// The owner of a file, cheaply (consulted on downloads while any account is suspended).
using OwnerLookup = std::function<std::optional<AccountId>(const std::string& file_id)>;
using RandomFn = std::function<void(std::span<std::uint8_t>)>;

struct SafetyOptions {
    std::uint64_t strikes_to_suspend = kDefaultStrikesToSuspend;
    files::RatePolicy report_rate{kReportsPerWindow, kReportWindowS, files::kRateLimiterKeysMax};
    // When set, reports are counted there (every instance on one database; see
    // files::ServiceRateLimit for a store failure) instead of in this process.
    std::shared_ptr<files::RateLimiter> shared_report_rate;
};

// A report as received (link or file id; the category as text).
struct ReportInput {
    std::string link;
    std::string file_id;
    std::string category;
    std::string reason;
    std::string contact;
    std::string evidence;
};

struct ReportView {
    ReportRecord report;
    std::optional<FileFacts> file;  // nullopt: the file is gone
    bool taken_down = false;
};

// Why a link does not serve its file.
enum class BlockKind { taken_down, account_suspended };
[[nodiscard]] std::string_view block_kind_code(BlockKind k);  // "taken-down", "account-suspended"
struct Takedown {
    BlockKind kind = BlockKind::taken_down;
    Category category = Category::other;
    std::string reason;
    std::int64_t since_s = 0;
};

// Whether `name` may be recorded as the admin log's "who": 1 to kAdminNameCharsMax characters
// of [A-Za-z0-9._-], not starting with '-' or '.' (a login name, never free text).
[[nodiscard]] bool is_admin_actor_name(std::string_view name);

struct TakedownOutcome {
    TakedownRecord takedown;
    std::uint64_t strikes = 0;
    bool suspended_now = false;  // this takedown reached the limit
};

// Several server processes on one database: each re-reads the safety state this often, so a
// takedown or a freeze made through one is enforced by all within about this.
inline constexpr std::chrono::milliseconds kSafetyRefreshInterval{1000};

class SafetyService {
public:
    // Loads the takedowns in force, the blocklist and the frozen accounts into memory.
    static SafetyResult<std::unique_ptr<SafetyService>> open(SafetyStore& store, const Clock& clock,
                                                             RandomFn random, FileLookup files,
                                                             OwnerLookup owners, SafetyOptions options);

    // Anyone: a report of a link (its fragment is cut off) or file id. Rate-limited per address.
    [[nodiscard]] SafetyResult<ReportRecord> report(const ReportInput& input, std::string_view client_address);
    [[nodiscard]] SafetyResult<std::vector<ReportView>> open_reports(std::size_t limit);

    // The operator (`who` is written to the log). A takedown disables the file at once, keeps
    // its digest (blocked for re-upload) and the report, notifies the owner and counts a strike.
    [[nodiscard]] SafetyResult<TakedownOutcome> takedown(std::int64_t report_id, const std::string& reason,
                                                         const std::string& who);
    [[nodiscard]] SafetyResult<ReportRecord> dismiss(std::int64_t report_id, const std::string& why,
                                                     const std::string& who);
    // Lifts the takedown of a file: it serves again, its digest is unblocked, the strike goes.
    [[nodiscard]] SafetyResult<TakedownRecord> restore(const std::string& file_id, const std::string& why,
                                                       const std::string& who);
    [[nodiscard]] SafetyResult<void> freeze(AccountId account, const std::string& user, const std::string& why,
                                            const std::string& who);
    [[nodiscard]] SafetyResult<void> unfreeze(AccountId account, const std::string& user, const std::string& why,
                                              const std::string& who);
    [[nodiscard]] SafetyResult<std::vector<LogEntry>> log(std::int64_t after_seq, std::size_t limit);

    // Rights-holder claims. check_claim: the report exists, is open and is a copyright report
    // (the server checks before it records the redirect). claim: upholds it without a takedown
    // (the file stays online, its earnings go to `claimant`): every open report of the file
    // is resolved upheld, no strike is counted, and the log says who gets the earnings.
    [[nodiscard]] SafetyResult<ReportRecord> check_claim(std::int64_t report_id);
    [[nodiscard]] SafetyResult<ReportRecord> claim(std::int64_t report_id, const std::string& claimant,
                                                   bool include_held, const std::string& reason,
                                                   const std::string& who);
    // The log line of a takedown that also redirects the file's earnings.
    [[nodiscard]] SafetyResult<void> note_redirect(std::int64_t report_id, const std::string& file_id,
                                                   const std::string& claimant, bool include_held,
                                                   const std::string& who);
    // Counts of reports, takedowns, reinstatements, dismissals, claims, suspensions and freezes.
    [[nodiscard]] SafetyResult<TransparencyCounts> transparency(std::int64_t since_s);

    // Owners.
    [[nodiscard]] SafetyResult<std::vector<NoticeRecord>> notices(AccountId account);
    [[nodiscard]] SafetyResult<NoticeRecord> counter_notice(AccountId account, std::int64_t notice_id,
                                                            const std::string& text);

    // Re-reads the takedowns in force, the blocklist, the frozen accounts and the files under
    // an open copyright report from the store: what other server processes on the same
    // database changed (the server calls it every kSafetyRefreshInterval with --db). Answers
    // the files whose earnings this service held until now and holds no more (their last
    // copyright report was resolved elsewhere): what this process held for them since that
    // resolution, its settlement did not see.
    [[nodiscard]] SafetyResult<std::vector<std::string>> refresh();

    // The checks the server makes (from memory, cheap).
    [[nodiscard]] std::optional<Takedown> takedown_of(const std::string& file_id) const;
    [[nodiscard]] bool is_blocked(const std::string& sha256_hex) const;
    [[nodiscard]] bool is_frozen(AccountId account) const;
    // Whether the file's earnings are held: it has an open copyright report (the paywall's
    // hold policy).
    [[nodiscard]] bool holds_earnings(const std::string& file_id) const;
    [[nodiscard]] bool is_suspended(AccountId account) const;
    [[nodiscard]] std::uint64_t strikes(AccountId account) const;
    [[nodiscard]] std::uint64_t strikes_to_suspend() const { return m_options.strikes_to_suspend; }

private:
    SafetyService(SafetyStore& store, const Clock& clock, RandomFn random, FileLookup files, OwnerLookup owners,
                  SafetyOptions options);
    // The report, if it exists and is open (not_found, conflict otherwise).
    SafetyResult<ReportRecord> open_report(std::int64_t report_id);
    // Re-reads whether the file still has an open copyright report (after a dismissal).
    SafetyResult<void> recount_copyright(const std::string& file_id);
    SafetyResult<void> set_frozen(AccountId account, const std::string& user, bool frozen, const std::string& why,
                                  const std::string& who);

    SafetyStore& m_store;
    const Clock& m_clock;
    RandomFn m_random;
    FileLookup m_files;
    OwnerLookup m_owners;
    SafetyOptions m_options;
    files::ServiceRateLimit m_report_rate;
    // One operator action at a time: a takedown's checks and writes are not interleaved.
    std::mutex m_admin_mutex;
    mutable std::mutex m_mutex;  // guards the in-memory state below
    std::map<std::string, TakedownRecord> m_taken_down;  // by file id, in force
    std::multiset<std::string> m_blocked;               // digests (one per takedown in force)
    std::map<AccountId, std::uint64_t> m_strikes;        // takedowns in force per owner
    std::set<AccountId> m_frozen;
    std::set<std::string> m_open_copyright;  // files with an open copyright report
};

}  // namespace satload::safety
