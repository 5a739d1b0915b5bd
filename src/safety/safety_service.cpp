// SafetyService: the rules of reports, takedowns, strikes, freezes and the blocklist (see
// safety_service.h). The store is the record; memory holds what every request consults.
#include "safety/safety_service.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "core/check.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "safety/report_text.h"

namespace satload::safety {
namespace {

SafetyFailure storage_failure(const StoreFailure& f) { return SafetyFailure{SafetyError::storage, f.message}; }

SafetyFailure invalid(std::string message) { return SafetyFailure{SafetyError::invalid, std::move(message)}; }

// A text field within its bound; the field's name in the message.
std::optional<SafetyFailure> check_text(std::string_view name, const std::string& value, std::size_t max_chars,
                                        bool required) {
    if (required && value.empty()) return invalid(fmt::format("{} is required", name));
    if (value.size() > max_chars) return invalid(fmt::format("{} is longer than {} characters", name, max_chars));
    return std::nullopt;
}

// Adds `key` to `set` or takes it out.
template <class Set, class Key>
void set_member(Set& set, const Key& key, bool member) {
    if (member) {
        set.insert(key);
    } else {
        set.erase(key);
    }
}

}  // namespace

std::string_view block_kind_code(BlockKind k) {
    switch (k) {
        case BlockKind::taken_down: return "taken-down";
        case BlockKind::account_suspended: return "account-suspended";
    }
    return "taken-down";
}

bool is_admin_actor_name(std::string_view name) {
    if (name.empty() || name.size() > kAdminNameCharsMax || name[0] == '-' || name[0] == '.') return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

SafetyService::SafetyService(SafetyStore& store, const Clock& clock, RandomFn random, FileLookup files,
                             OwnerLookup owners, SafetyOptions options)
    : m_store(store),
      m_clock(clock),
      m_random(std::move(random)),
      m_files(std::move(files)),
      m_owners(std::move(owners)),
      m_options(options),
      m_report_rate(clock, options.report_rate, options.shared_report_rate) {
    SATLOAD_ASSERT(m_options.strikes_to_suspend >= 1);
}

SafetyResult<std::unique_ptr<SafetyService>> SafetyService::open(SafetyStore& store, const Clock& clock,
                                                                 RandomFn random, FileLookup files,
                                                                 OwnerLookup owners, SafetyOptions options) {
    std::unique_ptr<SafetyService> service(
        new SafetyService(store, clock, std::move(random), std::move(files), std::move(owners), options));
    if (auto loaded = service->refresh(); !loaded) return fail(loaded.error());
    return service;
}

SafetyResult<std::vector<std::string>> SafetyService::refresh() {
    // Read everything first, then swap it in at once: a check never sees half a state.
    std::map<std::string, TakedownRecord> taken_down;
    std::multiset<std::string> blocked;
    std::map<AccountId, std::uint64_t> strikes;
    std::set<AccountId> frozen_set;
    auto active = m_store.active_takedowns();
    if (!active) return fail(storage_failure(active.error()));
    for (auto& t : *active) {
        blocked.insert(t.sha256_hex);
        if (t.owner) ++strikes[*t.owner];
        std::string file_id = t.file_id;
        taken_down.emplace(std::move(file_id), std::move(t));
    }
    auto frozen = m_store.frozen_accounts();
    if (!frozen) return fail(storage_failure(frozen.error()));
    for (const auto& f : *frozen) frozen_set.insert(f.account);
    auto held = m_store.files_with_open_reports(Category::copyright);
    if (!held) return fail(storage_failure(held.error()));
    std::set<std::string> open_copyright(held->begin(), held->end());
    std::vector<std::string> hold_ended;
    const std::lock_guard lock(m_mutex);
    std::set_difference(m_open_copyright.begin(), m_open_copyright.end(), open_copyright.begin(),
                        open_copyright.end(), std::back_inserter(hold_ended));
    m_taken_down = std::move(taken_down);
    m_blocked = std::move(blocked);
    m_strikes = std::move(strikes);
    m_frozen = std::move(frozen_set);
    m_open_copyright = std::move(open_copyright);
    return hold_ended;
}

SafetyResult<ReportRecord> SafetyService::report(const ReportInput& input, std::string_view client_address) {
    ReportRecord r;
    if (!input.link.empty()) {
        if (input.link.size() > kReportLinkCharsMax) {
            return fail(invalid(fmt::format("link is longer than {} characters", kReportLinkCharsMax)));
        }
        const auto id = file_id_of_link(input.link);
        if (!id) return fail(invalid("link is not a link to a file of this service (…/f/<id>)"));
        if (!input.file_id.empty() && input.file_id != *id) {
            return fail(invalid("link and file_id name different files"));
        }
        r.file_id = *id;
        // The fragment is the file's key: it never reaches the store.
        r.link = strip_fragment(input.link);
    } else if (!input.file_id.empty()) {
        if (!is_file_id(input.file_id)) return fail(invalid("file_id is not a file id"));
        r.file_id = input.file_id;
    } else {
        return fail(invalid("give the link (or file_id) of the file you report"));
    }
    const auto category = parse_category(input.category);
    if (!category) return fail(invalid("category must be one of copyright, malware, abuse, other"));
    r.category = *category;
    if (auto e = check_text("reason", input.reason, kReportReasonCharsMax, true)) return fail(*e);
    if (auto e = check_text("contact", input.contact, kReportContactCharsMax, false)) return fail(*e);
    if (auto e = check_text("evidence", input.evidence, kReportEvidenceCharsMax, false)) return fail(*e);
    r.reason = without_link_secrets(input.reason);
    r.contact = without_link_secrets(input.contact);
    r.evidence = without_link_secrets(input.evidence);
    // Counted only once the request is well-formed, so a typo does not use up the window.
    if (const std::int64_t retry_s = m_report_rate.acquire(client_address); retry_s > 0) {
        return fail(SafetyFailure{SafetyError::rate_limited, "too many reports from this address: try later",
                                  retry_s});
    }
    if (!m_files(r.file_id)) return fail(SafetyFailure{SafetyError::not_found, "no such file"});
    std::array<std::uint8_t, kReferenceBytes> reference{};
    m_random(reference);
    r.reference = base64url_encode(reference);
    r.created_s = m_clock.now_s();
    auto stored = m_store.insert_report(r);
    if (!stored) return fail(storage_failure(stored.error()));
    if (stored->category == Category::copyright) {
        // From now on the file's earnings are held (the paywall asks holds_earnings).
        const std::lock_guard lock(m_mutex);
        m_open_copyright.insert(stored->file_id);
    }
    return std::move(*stored);
}

SafetyResult<std::vector<ReportView>> SafetyService::open_reports(std::size_t limit) {
    auto reports = m_store.open_reports(std::min(limit, kListingMax));
    if (!reports) return fail(storage_failure(reports.error()));
    std::vector<ReportView> out;
    out.reserve(reports->size());
    for (auto& r : *reports) {
        ReportView v;
        v.file = m_files(r.file_id);
        v.taken_down = takedown_of(r.file_id).has_value();
        v.report = std::move(r);
        out.push_back(std::move(v));
    }
    return out;
}

SafetyResult<TakedownOutcome> SafetyService::takedown(std::int64_t report_id, const std::string& reason,
                                                      const std::string& who) {
    if (auto e = check_text("reason", reason, kAdminReasonCharsMax, true)) return fail(*e);
    const std::lock_guard admin(m_admin_mutex);
    auto report = open_report(report_id);
    if (!report) return fail(report.error());
    const ReportRecord& r = *report;
    {
        const std::lock_guard lock(m_mutex);
        if (m_taken_down.contains(r.file_id)) {
            return fail(SafetyFailure{SafetyError::conflict, "the file is already taken down"});
        }
    }
    const auto facts = m_files(r.file_id);
    if (!facts) return fail(SafetyFailure{SafetyError::not_found, "the reported file no longer exists"});
    const std::int64_t now_s = m_clock.now_s();
    TakedownRecord t;
    t.file_id = r.file_id;
    t.report_id = r.report_id;
    t.owner = facts->owner;
    t.sha256_hex = facts->sha256_hex;
    t.category = r.category;
    t.reason = reason;
    t.created_s = now_s;
    std::optional<NoticeRecord> notice;
    if (facts->owner) {
        notice = NoticeRecord{};
        notice->account = *facts->owner;
        notice->file_id = r.file_id;
        notice->created_s = now_s;
        notice->text = fmt::format(
            "Your file {} was taken down after a {} report: {}. You may file a counter-notice if you "
            "believe this is a mistake.",
            r.file_id, category_name(r.category), reason);
    }
    const LogEntry line{0, now_s, who, "takedown", fmt::format("report {} file {}", report_id, r.file_id), reason};
    auto stored = m_store.insert_takedown(t, notice, line);
    if (!stored) {
        if (stored.error().code == store::StoreError::exists) {
            return fail(SafetyFailure{SafetyError::conflict, "the file is already taken down"});
        }
        return fail(storage_failure(stored.error()));
    }
    if (auto resolved = m_store.resolve_reports(r.file_id, ReportState::upheld, now_s); !resolved) {
        return fail(storage_failure(resolved.error()));
    }
    TakedownOutcome out;
    out.takedown = *stored;
    {
        const std::lock_guard lock(m_mutex);
        m_open_copyright.erase(t.file_id);  // every open report of the file was resolved
        m_taken_down[t.file_id] = *stored;
        m_blocked.insert(stored->sha256_hex);
        if (t.owner) {
            out.strikes = ++m_strikes[*t.owner];
            out.suspended_now = out.strikes == m_options.strikes_to_suspend;
        }
    }
    if (out.suspended_now) {
        const LogEntry suspend{0, now_s, who, "suspend",
                               fmt::format("account {} ({})", *t.owner, facts->owner_name),
                               fmt::format("{} upheld takedowns", out.strikes)};
        if (auto logged = m_store.append_log(suspend); !logged) return fail(storage_failure(logged.error()));
    }
    return out;
}

SafetyResult<ReportRecord> SafetyService::dismiss(std::int64_t report_id, const std::string& why,
                                                  const std::string& who) {
    if (auto e = check_text("reason", why, kAdminReasonCharsMax, false)) return fail(*e);
    const std::lock_guard admin(m_admin_mutex);
    auto report = open_report(report_id);
    if (!report) return fail(report.error());
    const std::int64_t now_s = m_clock.now_s();
    auto changed = m_store.resolve_report(report_id, ReportState::dismissed, now_s);
    if (!changed) return fail(storage_failure(changed.error()));
    const LogEntry line{0, now_s, who, "dismiss", fmt::format("report {} file {}", report_id, report->file_id),
                        why};
    if (auto logged = m_store.append_log(line); !logged) return fail(storage_failure(logged.error()));
    if (report->category == Category::copyright) {
        if (auto r = recount_copyright(report->file_id); !r) return fail(r.error());
    }
    ReportRecord out = std::move(*report);
    out.state = ReportState::dismissed;
    out.resolved_s = now_s;
    return out;
}

SafetyResult<void> SafetyService::recount_copyright(const std::string& file_id) {
    auto files = m_store.files_with_open_reports(Category::copyright);
    if (!files) return fail(storage_failure(files.error()));
    const bool still_open = std::find(files->begin(), files->end(), file_id) != files->end();
    const std::lock_guard lock(m_mutex);
    set_member(m_open_copyright, file_id, still_open);
    return {};
}

SafetyResult<ReportRecord> SafetyService::open_report(std::int64_t report_id) {
    auto report = m_store.get_report(report_id);
    if (!report) return fail(storage_failure(report.error()));
    if (!*report) return fail(SafetyFailure{SafetyError::not_found, fmt::format("no report {}", report_id)});
    if ((*report)->state != ReportState::open) {
        return fail(SafetyFailure{SafetyError::conflict, fmt::format("report {} is already {}", report_id,
                                                                     report_state_name((*report)->state))});
    }
    return std::move(**report);
}

SafetyResult<ReportRecord> SafetyService::check_claim(std::int64_t report_id) {
    auto report = open_report(report_id);
    if (!report) return fail(report.error());
    if (report->category != Category::copyright) {
        return fail(SafetyFailure{SafetyError::conflict,
                                  fmt::format("report {} is a {} report: only a copyright report names a rights holder",
                                              report_id, category_name(report->category))});
    }
    return report;
}

SafetyResult<ReportRecord> SafetyService::claim(std::int64_t report_id, const std::string& claimant,
                                                bool include_held, const std::string& reason,
                                                const std::string& who) {
    if (auto e = check_text("reason", reason, kAdminReasonCharsMax, true)) return fail(*e);
    const std::lock_guard admin(m_admin_mutex);
    auto report = check_claim(report_id);
    if (!report) return fail(report.error());
    const std::int64_t now_s = m_clock.now_s();
    auto resolved = m_store.resolve_reports(report->file_id, ReportState::upheld, now_s);
    if (!resolved) return fail(storage_failure(resolved.error()));
    {
        const std::lock_guard lock(m_mutex);
        m_open_copyright.erase(report->file_id);
    }
    const LogEntry line{0, now_s, who, "claim",
                        fmt::format("report {} file {} earnings to {}{}", report_id, report->file_id, claimant,
                                    include_held ? " (held earnings included)" : ""),
                        reason};
    if (auto logged = m_store.append_log(line); !logged) return fail(storage_failure(logged.error()));
    report->state = ReportState::upheld;
    report->resolved_s = now_s;
    return std::move(*report);
}

SafetyResult<void> SafetyService::note_redirect(std::int64_t report_id, const std::string& file_id,
                                                const std::string& claimant, bool include_held,
                                                const std::string& who) {
    const LogEntry line{0, m_clock.now_s(), who, "redirect",
                        fmt::format("report {} file {} earnings to {}{}", report_id, file_id, claimant,
                                    include_held ? " (held earnings included)" : ""),
                        "rights-holder claim upheld with the takedown"};
    if (auto logged = m_store.append_log(line); !logged) return fail(storage_failure(logged.error()));
    return {};
}

SafetyResult<TransparencyCounts> SafetyService::transparency(std::int64_t since_s) {
    auto counts = m_store.transparency(since_s);
    if (!counts) return fail(storage_failure(counts.error()));
    return std::move(*counts);
}

SafetyResult<TakedownRecord> SafetyService::restore(const std::string& file_id, const std::string& why,
                                                    const std::string& who) {
    if (auto e = check_text("reason", why, kAdminReasonCharsMax, false)) return fail(*e);
    const std::lock_guard admin(m_admin_mutex);
    const std::int64_t now_s = m_clock.now_s();
    const LogEntry line{0, now_s, who, "restore", fmt::format("file {}", file_id), why};
    auto restored = m_store.restore_takedown(file_id, now_s, line);
    if (!restored) {
        if (restored.error().code == store::StoreError::not_found) {
            return fail(SafetyFailure{SafetyError::not_found, "the file is not taken down"});
        }
        return fail(storage_failure(restored.error()));
    }
    bool unsuspended = false;
    std::uint64_t left = 0;
    {
        const std::lock_guard lock(m_mutex);
        m_taken_down.erase(file_id);
        if (const auto it = m_blocked.find(restored->sha256_hex); it != m_blocked.end()) m_blocked.erase(it);
        if (restored->owner) {
            auto& count = m_strikes[*restored->owner];
            unsuspended = count == m_options.strikes_to_suspend;
            if (count > 0) --count;
            left = count;
        }
    }
    if (unsuspended) {
        const LogEntry lift{0, now_s, who, "unsuspend", fmt::format("account {}", *restored->owner),
                            fmt::format("{} upheld takedowns after a restore", left)};
        if (auto logged = m_store.append_log(lift); !logged) return fail(storage_failure(logged.error()));
    }
    return std::move(*restored);
}

SafetyResult<void> SafetyService::set_frozen(AccountId account, const std::string& user, bool frozen,
                                             const std::string& why, const std::string& who) {
    if (auto e = check_text("reason", why, kAdminReasonCharsMax, false)) return fail(*e);
    const std::lock_guard admin(m_admin_mutex);
    {
        const std::lock_guard lock(m_mutex);
        if (m_frozen.contains(account) == frozen) {
            return fail(SafetyFailure{SafetyError::conflict,
                                      fmt::format("the wallet of {} is {}", user, frozen ? "already frozen" : "not frozen")});
        }
    }
    const std::int64_t now_s = m_clock.now_s();
    const LogEntry line{0, now_s, who, frozen ? "freeze" : "unfreeze", fmt::format("account {} ({})", account, user),
                        why};
    if (auto r = m_store.set_frozen(account, frozen ? std::max<std::int64_t>(now_s, 1) : 0, line); !r) {
        return fail(storage_failure(r.error()));
    }
    const std::lock_guard lock(m_mutex);
    set_member(m_frozen, account, frozen);
    return {};
}

SafetyResult<void> SafetyService::freeze(AccountId account, const std::string& user, const std::string& why,
                                         const std::string& who) {
    return set_frozen(account, user, true, why, who);
}

SafetyResult<void> SafetyService::unfreeze(AccountId account, const std::string& user, const std::string& why,
                                           const std::string& who) {
    return set_frozen(account, user, false, why, who);
}

SafetyResult<std::vector<LogEntry>> SafetyService::log(std::int64_t after_seq, std::size_t limit) {
    auto entries = m_store.log(after_seq, std::min(limit, kListingMax));
    if (!entries) return fail(storage_failure(entries.error()));
    return std::move(*entries);
}

SafetyResult<std::vector<NoticeRecord>> SafetyService::notices(AccountId account) {
    auto list = m_store.notices(account, kListingMax);
    if (!list) return fail(storage_failure(list.error()));
    return std::move(*list);
}

SafetyResult<NoticeRecord> SafetyService::counter_notice(AccountId account, std::int64_t notice_id,
                                                         const std::string& text) {
    if (auto e = check_text("text", text, kCounterNoticeCharsMax, true)) return fail(*e);
    auto filed = m_store.counter_notice(account, notice_id, without_link_secrets(text), m_clock.now_s());
    if (!filed) {
        if (filed.error().code == store::StoreError::not_found) {
            return fail(SafetyFailure{SafetyError::not_found, "no such notice"});
        }
        if (filed.error().code == store::StoreError::exists) {
            return fail(SafetyFailure{SafetyError::conflict, filed.error().message});
        }
        return fail(storage_failure(filed.error()));
    }
    return std::move(*filed);
}

std::optional<Takedown> SafetyService::takedown_of(const std::string& file_id) const {
    bool any_suspended = false;
    {
        const std::lock_guard lock(m_mutex);
        if (const auto it = m_taken_down.find(file_id); it != m_taken_down.end()) {
            return Takedown{BlockKind::taken_down, it->second.category, it->second.reason, it->second.created_s};
        }
        for (const auto& [account, count] : m_strikes) {
            if (count >= m_options.strikes_to_suspend) {
                any_suspended = true;
                break;
            }
        }
    }
    // The owner is looked up only while some account is suspended.
    if (!any_suspended) return std::nullopt;
    const auto owner = m_owners(file_id);
    if (!owner || !is_suspended(*owner)) return std::nullopt;
    return Takedown{BlockKind::account_suspended, Category::other, "the owner's account is suspended", 0};
}

bool SafetyService::is_blocked(const std::string& sha256_hex) const {
    const std::lock_guard lock(m_mutex);
    return m_blocked.contains(sha256_hex);
}

bool SafetyService::holds_earnings(const std::string& file_id) const {
    const std::lock_guard lock(m_mutex);
    return m_open_copyright.contains(file_id);
}

bool SafetyService::is_frozen(AccountId account) const {
    const std::lock_guard lock(m_mutex);
    return m_frozen.contains(account);
}

bool SafetyService::is_suspended(AccountId account) const { return strikes(account) >= m_options.strikes_to_suspend; }

std::uint64_t SafetyService::strikes(AccountId account) const {
    const std::lock_guard lock(m_mutex);
    const auto it = m_strikes.find(account);
    return it == m_strikes.end() ? 0 : it->second;
}

}  // namespace satload::safety
