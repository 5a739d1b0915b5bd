// SafetyService over a real store, on each backend (a SQLite file, a PostgreSQL schema):
// reports (fragment never stored, limits, rate limit), takedown/dismiss/restore with notices,
// strikes and suspension, freezes, the blocklist and the append-only admin log, and that all of
// it survives a reopen; which files' earnings are held, rights-holder claims, the transparency
// counts, `since` dates and admin actor names; and the store seen by two instances at once.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <thread>

#include "core/encoding.h"
#include "safety/report_text.h"
#include "safety/pg_safety_store.h"
#include "safety/safety_service.h"
#include "safety/sqlite_safety_store.h"
#include "safety/transparency.h"
#include "store/pg_test_util.h"

namespace satload::safety {
namespace {

namespace fs = std::filesystem;
using store::testing::DbBackend;

std::string file_id(std::uint8_t n) {
    std::array<std::uint8_t, 16> b{};
    b.fill(n);
    return base64url_encode(b);
}

std::string digest(char c) { return std::string(64, c); }

// A made-up key, long and distinctive enough to find in the database bytes.
const std::string kSecret = "Zq9XkLmN3pR7sT1vW5yA2b";

// Connections per PostgreSQL store instance: tests are many and run side by side.
constexpr std::size_t kPgTestConnections = 2;

class SafetyTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) {
            SATLOAD_REQUIRE_PG();
            m_pg.emplace();
        } else {
            const char* base = std::getenv("SATLOAD_TEST_TMP");
            m_dir = fs::path(base ? base : "/tmp") /
                    ("safety_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
            fs::create_directories(m_dir);
        }
        // Files 1..9 exist; 1-4 belong to account 7 ("alice"), 5 to account 8, 6 is anonymous.
        for (std::uint8_t n = 1; n <= 9; ++n) {
            FileFacts f;
            f.sha256_hex = digest(static_cast<char>('a' + n));
            if (n <= 4) {
                f.owner = 7;
                f.owner_name = "alice";
            } else if (n == 5) {
                f.owner = 8;
                f.owner_name = "bob";
            }
            f.downloads = n;
            f.earnings_msat = 1000 * n;
            m_facts[file_id(n)] = f;
        }
        open();
    }
    void TearDown() override {
        m_service.reset();
        m_store.reset();
        m_pg.reset();  // drops the schema
        std::error_code ec;
        if (!m_dir.empty()) fs::remove_all(m_dir, ec);
    }
    // Another store instance on the test's database, as another server process would open.
    StoreResult<std::unique_ptr<SafetyStore>> open_store() {
        if (GetParam() == DbBackend::sqlite) {
            auto s = SqliteSafetyStore::open(m_dir / "meta.sqlite");
            if (!s) return fail(s.error());
            return std::unique_ptr<SafetyStore>(std::move(*s));
        }
        auto db = store::PgDb::open(m_pg->url(), kPgTestConnections);
        if (!db) return fail(db.error());
        auto s = PgSafetyStore::open(std::move(*db));
        if (!s) return fail(s.error());
        return std::unique_ptr<SafetyStore>(std::move(*s));
    }
    // Runs one statement on the database outside the store; false when the database refuses.
    bool exec_outside(const std::string& sql) {
        if (GetParam() == DbBackend::sqlite) {
            sqlite3* db = nullptr;
            bool ok = sqlite3_open((m_dir / "meta.sqlite").c_str(), &db) == SQLITE_OK;
            ok = ok && sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
            sqlite3_close(db);
            return ok;
        }
        auto url = store::parse_pg_url(m_pg->url());
        if (!url) return false;
        try {
            pqxx::connection c(url->conninfo);
            pqxx::nontransaction n(c);
            n.exec("SET search_path TO " + c.quote_name(url->schema));
            n.exec(sql);
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }
    // Everything the database holds, to search: the SQLite files' bytes (the store closed, so
    // its WAL is in the main file), or every row of every table of the schema as text.
    std::string database_bytes() {
        std::string bytes;
        if (GetParam() == DbBackend::sqlite) {
            for (const auto& e : fs::directory_iterator(m_dir)) {
                std::ifstream f(e.path(), std::ios::binary);
                bytes.append(std::istreambuf_iterator<char>(f), {});
            }
            return bytes;
        }
        auto url = store::parse_pg_url(m_pg->url());
        EXPECT_TRUE(url);
        pqxx::connection c(url->conninfo);
        pqxx::work w(c);
        for (const auto& table : w.exec_params("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = $1",
                                               url->schema)) {
            const std::string name = c.quote_name(url->schema) + "." + c.quote_name(table[0].as<std::string>());
            for (const auto& row : w.exec("SELECT t::text FROM " + name + " t")) bytes += row[0].as<std::string>();
        }
        return bytes;
    }
    void open(SafetyOptions options = {}) {
        m_service.reset();
        m_store.reset();
        auto store = open_store();
        ASSERT_TRUE(store) << store.error().message;
        m_store = std::move(*store);
        auto service = SafetyService::open(
            *m_store, m_clock, [this](std::span<std::uint8_t> out) { for (auto& b : out) b = ++m_random; },
            [this](const std::string& id) -> std::optional<FileFacts> {
                const auto it = m_facts.find(id);
                if (it == m_facts.end()) return std::nullopt;
                return it->second;
            },
            [this](const std::string& id) -> std::optional<AccountId> {
                const auto it = m_facts.find(id);
                if (it == m_facts.end()) return std::nullopt;
                return it->second.owner;
            },
            options);
        ASSERT_TRUE(service) << service.error().message;
        m_service = std::move(*service);
    }
    std::int64_t report(std::uint8_t n, std::string category = "copyright", std::string address = "10.0.0.1") {
        ReportInput in;
        in.link = "https://example.test/f/" + file_id(n) + "#" + kSecret;
        in.category = std::move(category);
        in.reason = "infringes my work";
        auto r = m_service->report(in, address);
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->report_id : 0;
    }

    fs::path m_dir;                                   // SQLite
    std::optional<store::testing::PgTestSchema> m_pg;  // PostgreSQL
    ManualClock m_clock{1'700'000'000};
    std::uint8_t m_random = 0;
    std::map<std::string, FileFacts> m_facts;
    std::unique_ptr<SafetyStore> m_store;
    std::unique_ptr<SafetyService> m_service;
};

// A link's fragment is the file key: the report keeps the link without it, the id is parsed
// from the path, and a key pasted into the reason is cut too; the database file holds no key.
TEST_P(SafetyTest, ReportStoresNoKey) {
    ReportInput in;
    in.link = "https://example.test/f/" + file_id(1) + "?r=abc#" + kSecret;
    in.category = "malware";
    in.reason = "see https://example.test/f/" + file_id(1) + "#" + kSecret + " it is a trojan";
    in.contact = "me@example.test";
    auto r = m_service->report(in, "10.0.0.1");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->file_id, file_id(1));
    EXPECT_EQ(r->link, "https://example.test/f/" + file_id(1) + "?r=abc");
    EXPECT_EQ(r->reason, "see https://example.test/f/" + file_id(1) + "# it is a trojan");
    EXPECT_EQ(r->reference.size(), 16u);
    m_service.reset();
    m_store.reset();  // closes the WAL into the main file
    const std::string bytes = database_bytes();
    ASSERT_FALSE(bytes.empty());
    EXPECT_NE(bytes.find(file_id(1)), std::string::npos);  // the search works
    EXPECT_EQ(bytes.find(kSecret), std::string::npos);
}

// Each malformed report gets a clear refusal naming the problem; none is stored.
TEST_P(SafetyTest, ReportValidation) {
    auto refuse = [&](ReportInput in, std::string_view words) {
        auto r = m_service->report(in, "10.0.0.2");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, SafetyError::invalid);
        EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
    };
    ReportInput ok{"", file_id(1), "abuse", "spam", "", ""};
    ReportInput x = ok;
    x.file_id.clear();
    refuse(x, "link");
    x = ok;
    x.category = "illegal";
    refuse(x, "category");
    x = ok;
    x.reason.clear();
    refuse(x, "reason is required");
    x = ok;
    x.reason = std::string(kReportReasonCharsMax + 1, 'r');
    refuse(x, "reason is longer");
    x = ok;
    x.reason = std::string(kReportReasonCharsMax, 'r');
    EXPECT_TRUE(m_service->report(x, "10.0.0.2"));  // at the limit
    x = ok;
    x.link = "https://example.test/x/" + file_id(1);
    refuse(x, "link is not");
    x = ok;
    x.link = "https://example.test/f/" + file_id(2);
    refuse(x, "different files");
    auto missing = m_service->report(ReportInput{"", file_id(42), "abuse", "spam", "", ""}, "10.0.0.2");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, SafetyError::not_found);
    auto open = m_service->open_reports(100);
    ASSERT_TRUE(open);
    EXPECT_EQ(open->size(), 1u);
}

// Per address: the window's reports pass, the next is refused with a wait, others still pass,
// and the window's end lets the address report again.
TEST_P(SafetyTest, ReportRateLimit) {
    SafetyOptions options;
    options.report_rate.events_per_window = 3;
    options.report_rate.window_s = 60;
    open(options);
    for (int i = 0; i < 3; ++i) report(1, "abuse", "10.0.0.3");
    ReportInput in{"", file_id(1), "abuse", "spam", "", ""};
    auto refused = m_service->report(in, "10.0.0.3");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, SafetyError::rate_limited);
    EXPECT_GT(refused.error().retry_after_s, 0);
    EXPECT_LE(refused.error().retry_after_s, 60);
    EXPECT_TRUE(m_service->report(in, "10.0.0.4"));
    m_clock.advance(61);
    EXPECT_TRUE(m_service->report(in, "10.0.0.3"));
}

// Takedown → owner notice → counter-notice → restore, with the queue, the blocklist and the
// log at each step; a second takedown of the same report is refused.
TEST_P(SafetyTest, TakedownCounterRestore) {
    const auto id = report(1);
    const auto other = report(1, "abuse", "10.0.0.9");
    auto queue = m_service->open_reports(100);
    ASSERT_TRUE(queue);
    ASSERT_EQ(queue->size(), 2u);
    ASSERT_TRUE((*queue)[0].file);
    EXPECT_EQ((*queue)[0].file->owner_name, "alice");
    EXPECT_EQ((*queue)[0].file->earnings_msat, 1000);

    EXPECT_FALSE(m_service->takedown_of(file_id(1)));
    auto out = m_service->takedown(id, "DMCA notice 12", "operator");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->strikes, 1u);
    EXPECT_FALSE(out->suspended_now);
    const auto t = m_service->takedown_of(file_id(1));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, BlockKind::taken_down);
    EXPECT_EQ(t->category, Category::copyright);
    EXPECT_EQ(t->reason, "DMCA notice 12");
    EXPECT_TRUE(m_service->is_blocked(digest('b')));
    EXPECT_FALSE(m_service->is_blocked(digest('c')));
    // Both reports of the file are answered by the takedown.
    EXPECT_TRUE(m_service->open_reports(100)->empty());
    auto again = m_service->takedown(other, "again", "operator");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, SafetyError::conflict);

    auto notices = m_service->notices(7);
    ASSERT_TRUE(notices);
    ASSERT_EQ(notices->size(), 1u);
    EXPECT_EQ((*notices)[0].file_id, file_id(1));
    EXPECT_NE((*notices)[0].text.find("DMCA notice 12"), std::string::npos);
    EXPECT_TRUE(m_service->notices(8)->empty());
    // Only the owner can answer, and only once.
    auto foreign = m_service->counter_notice(8, (*notices)[0].notice_id, "mine");
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, SafetyError::not_found);
    auto counter = m_service->counter_notice(7, (*notices)[0].notice_id, "I own the rights");
    ASSERT_TRUE(counter) << counter.error().message;
    EXPECT_EQ(counter->counter_text, "I own the rights");
    EXPECT_EQ(m_service->counter_notice(7, (*notices)[0].notice_id, "again").error().code, SafetyError::conflict);
    EXPECT_EQ(m_service->notices(7)->front().counter_text, "I own the rights");

    auto restored = m_service->restore(file_id(1), "counter-notice accepted", "operator");
    ASSERT_TRUE(restored) << restored.error().message;
    EXPECT_FALSE(m_service->takedown_of(file_id(1)));
    EXPECT_FALSE(m_service->is_blocked(digest('b')));
    EXPECT_EQ(m_service->strikes(7), 0u);
    EXPECT_EQ(m_service->restore(file_id(1), "", "operator").error().code, SafetyError::not_found);

    auto log = m_service->log(0, 100);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), 2u);
    EXPECT_EQ((*log)[0].action, "takedown");
    EXPECT_EQ((*log)[0].why, "DMCA notice 12");
    EXPECT_EQ((*log)[0].who, "operator");
    EXPECT_EQ((*log)[1].action, "restore");
    EXPECT_LT((*log)[0].seq, (*log)[1].seq);
}

// Dismissal closes a report without touching the file, and is logged; a closed report can be
// neither dismissed nor taken down again.
TEST_P(SafetyTest, Dismiss) {
    const auto id = report(5, "abuse");
    auto d = m_service->dismiss(id, "not abusive", "ops-bot");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->state, ReportState::dismissed);
    EXPECT_FALSE(m_service->takedown_of(file_id(5)));
    EXPECT_EQ(m_service->dismiss(id, "", "ops-bot").error().code, SafetyError::conflict);
    EXPECT_EQ(m_service->takedown(id, "x", "ops-bot").error().code, SafetyError::conflict);
    EXPECT_EQ(m_service->dismiss(999, "", "ops-bot").error().code, SafetyError::not_found);
    auto log = m_service->log(0, 10);
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].action, "dismiss");
    EXPECT_EQ((*log)[0].who, "ops-bot");
}

// The configured number of upheld takedowns suspends the owner: every file of theirs answers
// as suspended (others' files do not); a restore below the limit lifts it.
TEST_P(SafetyTest, StrikesSuspend) {
    SafetyOptions options;
    options.strikes_to_suspend = 2;
    open(options);
    ASSERT_TRUE(m_service->takedown(report(1), "one", "operator"));
    EXPECT_FALSE(m_service->is_suspended(7));
    EXPECT_FALSE(m_service->takedown_of(file_id(3)));
    auto second = m_service->takedown(report(2), "two", "operator");
    ASSERT_TRUE(second);
    EXPECT_TRUE(second->suspended_now);
    EXPECT_TRUE(m_service->is_suspended(7));
    const auto t = m_service->takedown_of(file_id(3));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->kind, BlockKind::account_suspended);
    EXPECT_FALSE(m_service->takedown_of(file_id(5)));  // bob's
    EXPECT_FALSE(m_service->takedown_of(file_id(6)));  // anonymous
    // Survives a restart.
    open(options);
    EXPECT_TRUE(m_service->is_suspended(7));
    EXPECT_EQ(m_service->strikes(7), 2u);
    EXPECT_TRUE(m_service->is_blocked(digest('c')));
    ASSERT_TRUE(m_service->restore(file_id(2), "mistake", "operator"));
    EXPECT_FALSE(m_service->is_suspended(7));
    EXPECT_FALSE(m_service->takedown_of(file_id(3)));
    auto log = m_service->log(0, 100);
    std::vector<std::string> actions;
    for (const auto& e : *log) actions.push_back(e.action);
    EXPECT_EQ(actions, (std::vector<std::string>{"takedown", "takedown", "suspend", "restore", "unsuspend"}));
}

// A freeze is a flag with a log line; freezing twice or unfreezing a free wallet is refused.
TEST_P(SafetyTest, FreezeUnfreeze) {
    EXPECT_FALSE(m_service->is_frozen(8));
    ASSERT_TRUE(m_service->freeze(8, "bob", "chargeback", "operator"));
    EXPECT_TRUE(m_service->is_frozen(8));
    EXPECT_FALSE(m_service->is_frozen(7));
    EXPECT_EQ(m_service->freeze(8, "bob", "", "operator").error().code, SafetyError::conflict);
    open();
    EXPECT_TRUE(m_service->is_frozen(8));
    ASSERT_TRUE(m_service->unfreeze(8, "bob", "cleared", "operator"));
    EXPECT_FALSE(m_service->is_frozen(8));
    EXPECT_EQ(m_service->unfreeze(8, "bob", "", "operator").error().code, SafetyError::conflict);
    auto log = m_service->log(0, 10);
    ASSERT_EQ(log->size(), 2u);
    EXPECT_EQ((*log)[0].action, "freeze");
    EXPECT_EQ((*log)[1].action, "unfreeze");
    EXPECT_EQ((*log)[1].why, "cleared");
}

// The admin log is append-only in the database itself: UPDATE and DELETE are refused.
TEST_P(SafetyTest, AdminLogAppendOnly) {
    ASSERT_TRUE(m_service->freeze(8, "bob", "x", "operator"));
    m_service.reset();
    m_store.reset();
    EXPECT_FALSE(exec_outside("UPDATE safety_admin_log SET why = 'y'"));
    EXPECT_FALSE(exec_outside("DELETE FROM safety_admin_log"));
    if (GetParam() == DbBackend::postgres) {
        EXPECT_FALSE(exec_outside("TRUNCATE safety_admin_log"));
    }
    // The control: the same connection may change another table.
    EXPECT_TRUE(exec_outside("UPDATE safety_accounts SET frozen_s = frozen_s"));
    open();
    auto log = m_service->log(0, 10);
    ASSERT_EQ(log->size(), 1u);
    EXPECT_EQ((*log)[0].why, "x");
}

// Link parsing and key scrubbing, at their edges.
TEST(ReportText, Links) {
    const std::string id = file_id(3);
    EXPECT_EQ(file_id_of_link("https://h/f/" + id + "#k"), id);
    EXPECT_EQ(file_id_of_link("https://h/base/f/" + id + "?r=x#k"), id);
    EXPECT_EQ(file_id_of_link("http://h/d/" + id), id);
    EXPECT_FALSE(file_id_of_link("https://h/f/" + id.substr(1)));
    EXPECT_FALSE(file_id_of_link("https://h/g/" + id));
    EXPECT_FALSE(file_id_of_link(id));
    EXPECT_EQ(strip_fragment("a/f/b#c#d"), "a/f/b");
    EXPECT_EQ(without_link_secrets("x /f/" + id + "#" + kSecret + "\n/f/" + id + "?r=1#" + kSecret + " y"),
              "x /f/" + id + "#\n/f/" + id + "?r=1# y");
    EXPECT_EQ(without_link_secrets("no links # here"), "no links # here");
}

// Earnings are held exactly while a file has an open copyright report: not for other
// categories, still after one of two is dismissed, not after the last is dismissed or a
// takedown resolves them, and again after a reopen of the service (from the store).
TEST_P(SafetyTest, HoldsEarningsWhileACopyrightReportIsOpen) {
    EXPECT_FALSE(m_service->holds_earnings(file_id(1)));
    const auto abuse = report(1, "abuse");
    EXPECT_FALSE(m_service->holds_earnings(file_id(1)));
    const auto first = report(1);
    const auto second = report(1);
    EXPECT_TRUE(m_service->holds_earnings(file_id(1)));
    EXPECT_FALSE(m_service->holds_earnings(file_id(2)));
    ASSERT_TRUE(m_service->dismiss(abuse, "", "op"));
    ASSERT_TRUE(m_service->dismiss(first, "licensed", "op"));
    EXPECT_TRUE(m_service->holds_earnings(file_id(1)));
    open();
    EXPECT_TRUE(m_service->holds_earnings(file_id(1)));
    ASSERT_TRUE(m_service->dismiss(second, "licensed", "op"));
    EXPECT_FALSE(m_service->holds_earnings(file_id(1)));

    report(2);
    report(2, "malware");
    EXPECT_TRUE(m_service->holds_earnings(file_id(2)));
    const auto malware = m_service->open_reports(10);
    ASSERT_TRUE(malware);
    const auto it = std::find_if(malware->begin(), malware->end(),
                                 [](const ReportView& v) { return v.report.category == Category::malware; });
    ASSERT_NE(it, malware->end());
    ASSERT_TRUE(m_service->takedown(it->report.report_id, "trojan", "op"));
    EXPECT_FALSE(m_service->holds_earnings(file_id(2)));
    open();
    EXPECT_FALSE(m_service->holds_earnings(file_id(1)));
    EXPECT_FALSE(m_service->holds_earnings(file_id(2)));
}

// A claim: only an open copyright report; it resolves every open report of the file upheld,
// stops the hold, counts no strike, keeps the file online and logs who gets the earnings.
TEST_P(SafetyTest, ClaimUpholdsWithoutTakedown) {
    const auto abuse = report(1, "abuse");
    const auto copyright = report(1);
    auto refused = m_service->claim(abuse, "label", true, "x", "op");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, SafetyError::conflict);
    EXPECT_EQ(m_service->check_claim(999).error().code, SafetyError::not_found);
    EXPECT_EQ(m_service->claim(copyright, "label", true, "", "op").error().code, SafetyError::invalid);
    auto upheld = m_service->claim(copyright, "label", true, "registered work", "jane");
    ASSERT_TRUE(upheld) << upheld.error().message;
    EXPECT_EQ(upheld->state, ReportState::upheld);
    EXPECT_FALSE(m_service->holds_earnings(file_id(1)));
    EXPECT_FALSE(m_service->takedown_of(file_id(1)));
    EXPECT_EQ(m_service->strikes(7), 0U);
    auto open_left = m_service->open_reports(10);
    ASSERT_TRUE(open_left);
    EXPECT_TRUE(open_left->empty());
    EXPECT_EQ(m_service->claim(copyright, "label", true, "again", "op").error().code, SafetyError::conflict);
    auto log = m_service->log(0, 10);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), 1U);
    EXPECT_EQ((*log)[0].action, "claim");
    EXPECT_EQ((*log)[0].who, "jane");
    EXPECT_EQ((*log)[0].target, "report " + std::to_string(copyright) + " file " + file_id(1) +
                                    " earnings to label (held earnings included)");
}

// The transparency counts by category and since a time: an action exactly at `since` counts,
// one a second before does not.
TEST_P(SafetyTest, TransparencyCountsSince) {
    const auto r1 = report(1);
    ASSERT_TRUE(m_service->takedown(r1, "upheld", "op"));
    const auto r2 = report(5, "abuse");
    ASSERT_TRUE(m_service->dismiss(r2, "", "op"));
    ASSERT_TRUE(m_service->freeze(8, "bob", "", "op"));
    m_clock.advance(10);
    const std::int64_t cut_s = m_clock.now_s();
    ASSERT_TRUE(m_service->restore(file_id(1), "counter-notice", "op"));
    ASSERT_TRUE(m_service->unfreeze(8, "bob", "", "op"));
    const auto r3 = report(2, "malware");
    report(3, "other");
    ASSERT_TRUE(m_service->takedown(r3, "trojan", "op"));
    const auto r4 = report(4);
    ASSERT_TRUE(m_service->claim(r4, "label", false, "mine", "op"));

    const auto idx = [](Category c) { return static_cast<std::size_t>(c); };
    auto all = m_service->transparency(0);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->reports, (CategoryCounts{2, 1, 1, 1}));
    EXPECT_EQ(all->takedowns, (CategoryCounts{1, 1, 0, 0}));
    EXPECT_EQ(all->reinstatements, (CategoryCounts{1, 0, 0, 0}));
    EXPECT_EQ(all->dismissals, (CategoryCounts{0, 0, 1, 0}));
    EXPECT_EQ(all->claims[idx(Category::copyright)], 1U);
    EXPECT_EQ(all->freezes, 1U);
    EXPECT_EQ(all->unfreezes, 1U);

    auto later = m_service->transparency(cut_s);
    ASSERT_TRUE(later);
    EXPECT_EQ(later->since_s, cut_s);
    EXPECT_EQ(later->reports, (CategoryCounts{1, 1, 0, 1}));
    EXPECT_EQ(later->takedowns, (CategoryCounts{0, 1, 0, 0}));
    EXPECT_EQ(later->reinstatements, (CategoryCounts{1, 0, 0, 0}));  // the restore is after the cut
    EXPECT_EQ(later->dismissals, (CategoryCounts{}));
    EXPECT_EQ(later->freezes, 0U);
    EXPECT_EQ(later->unfreezes, 1U);
    auto none = m_service->transparency(cut_s + 1);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->reports, (CategoryCounts{}));
    EXPECT_EQ(none->claims, (CategoryCounts{}));
}

// Suspensions counted by the transparency report come from the log line a third strike writes.
TEST_P(SafetyTest, TransparencyCountsSuspensions) {
    for (std::uint8_t n = 1; n <= 3; ++n) ASSERT_TRUE(m_service->takedown(report(n, "malware"), "x", "op"));
    auto counts = m_service->transparency(0);
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->suspensions, 1U);
    EXPECT_EQ(counts->takedowns[static_cast<std::size_t>(Category::malware)], 3U);
}

// Two store instances on one database, as two server processes: each sees the other's writes
// as soon as the call returns (nothing is kept in memory), and the rules the database keeps
// (one takedown in force per file, one counter-notice per notice) hold across them.
// Two services on one database (two server processes): a takedown, a freeze and a copyright
// report made through one are enforced by the other once it refreshes, and lifted alike.
TEST_P(SafetyTest, SecondServiceEnforcesAfterRefresh) {
    auto second_store = open_store();
    ASSERT_TRUE(second_store) << second_store.error().message;
    auto second = SafetyService::open(
        **second_store, m_clock, [](std::span<std::uint8_t> out) { for (auto& b : out) b = 7; },
        [](const std::string&) -> std::optional<FileFacts> { return std::nullopt; },
        [](const std::string&) -> std::optional<AccountId> { return std::nullopt; }, SafetyOptions{});
    ASSERT_TRUE(second) << second.error().message;
    SafetyService& other = **second;

    const auto id = report(1);
    ASSERT_TRUE(m_service->freeze(8, "bob", "chargeback", "operator"));
    EXPECT_FALSE(other.holds_earnings(file_id(1)));
    EXPECT_FALSE(other.is_frozen(8));
    ASSERT_TRUE(other.refresh());
    EXPECT_TRUE(other.holds_earnings(file_id(1)));
    EXPECT_TRUE(other.is_frozen(8));

    ASSERT_TRUE(m_service->takedown(id, "DMCA notice", "operator"));
    EXPECT_FALSE(other.takedown_of(file_id(1)));
    // The refresh names the file whose hold ended here (what this process held for it since
    // the resolution is for it to settle), once.
    const auto ended = other.refresh();
    ASSERT_TRUE(ended);
    EXPECT_EQ(*ended, std::vector<std::string>{file_id(1)});
    EXPECT_TRUE(other.takedown_of(file_id(1)));
    EXPECT_TRUE(other.is_blocked(digest('b')));
    EXPECT_EQ(other.strikes(7), 1u);
    EXPECT_FALSE(other.holds_earnings(file_id(1)));  // the report is resolved

    ASSERT_TRUE(m_service->restore(file_id(1), "counter-notice upheld", "operator"));
    ASSERT_TRUE(m_service->unfreeze(8, "bob", "settled", "operator"));
    const auto none = other.refresh();
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    EXPECT_FALSE(other.takedown_of(file_id(1)));
    EXPECT_FALSE(other.is_blocked(digest('b')));
    EXPECT_EQ(other.strikes(7), 0u);
    EXPECT_FALSE(other.is_frozen(8));
}

TEST_P(SafetyTest, TwoStoreInstancesSeeEachOthersWritesAtOnce) {
    auto second = open_store();
    ASSERT_TRUE(second) << second.error().message;
    SafetyStore& a = *m_store;
    SafetyStore& b = **second;

    ReportRecord r;
    r.reference = "ref-one";
    r.file_id = file_id(1);
    r.category = Category::malware;
    r.created_s = 100;
    auto report = a.insert_report(r);
    ASSERT_TRUE(report) << report.error().message;
    auto open_reports = b.open_reports(10);
    ASSERT_TRUE(open_reports);
    ASSERT_EQ(open_reports->size(), 1u);
    EXPECT_EQ((*open_reports)[0].report_id, report->report_id);
    EXPECT_EQ(*b.files_with_open_reports(Category::malware), std::vector<std::string>{file_id(1)});
    EXPECT_EQ(b.insert_report(r).error().code, store::StoreError::exists);  // same reference

    TakedownRecord t;
    t.file_id = file_id(1);
    t.report_id = report->report_id;
    t.owner = 7;
    t.sha256_hex = digest('b');
    t.category = Category::malware;
    t.created_s = 200;
    NoticeRecord n;
    n.account = 7;
    n.file_id = file_id(1);
    n.text = "taken down";
    n.created_s = 200;
    auto taken = a.insert_takedown(t, n, LogEntry{0, 200, "op", "takedown", file_id(1), "x"});
    ASSERT_TRUE(taken) << taken.error().message;
    EXPECT_EQ(*b.resolve_reports(file_id(1), ReportState::upheld, 200), 1);
    EXPECT_EQ(*a.resolve_report(report->report_id, ReportState::dismissed, 201), 0);  // already resolved
    EXPECT_EQ((*a.get_report(report->report_id))->state, ReportState::upheld);
    EXPECT_EQ(*b.strikes(7), 1u);
    EXPECT_EQ(*b.blocked_digests(), std::vector<std::string>{digest('b')});
    ASSERT_EQ(b.active_takedowns()->size(), 1u);
    EXPECT_EQ((*b.active_takedowns())[0].takedown_id, taken->takedown_id);
    // A second takedown of the file in force is refused, and writes nothing (no log line).
    auto again = b.insert_takedown(t, std::nullopt, LogEntry{0, 201, "op", "takedown", file_id(1), "y"});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, store::StoreError::exists);

    auto notices = b.notices(7, 10);
    ASSERT_TRUE(notices);
    ASSERT_EQ(notices->size(), 1u);
    EXPECT_EQ(b.counter_notice(8, (*notices)[0].notice_id, "mine", 300).error().code,
              store::StoreError::not_found);
    ASSERT_TRUE(b.counter_notice(7, (*notices)[0].notice_id, "mine", 300));
    EXPECT_EQ(a.counter_notice(7, (*notices)[0].notice_id, "again", 301).error().code,
              store::StoreError::exists);
    EXPECT_EQ((*a.notices(7, 10))[0].counter_text, "mine");

    ASSERT_TRUE(a.restore_takedown(file_id(1), 400, LogEntry{0, 400, "op", "restore", file_id(1), "z"}));
    EXPECT_EQ(b.restore_takedown(file_id(1), 401, LogEntry{0, 401, "op", "restore", file_id(1), "z"}).error().code,
              store::StoreError::not_found);
    EXPECT_TRUE(b.blocked_digests()->empty());
    EXPECT_EQ(*b.strikes(7), 0u);

    ASSERT_TRUE(b.set_frozen(8, 500, LogEntry{0, 500, "op", "freeze", "bob", "w"}));
    auto frozen = a.frozen_accounts();
    ASSERT_TRUE(frozen);
    ASSERT_EQ(frozen->size(), 1u);
    EXPECT_EQ((*frozen)[0].account, 8);
    EXPECT_EQ((*frozen)[0].frozen_s, 500);
    EXPECT_EQ(a.transparency(0)->freezes, 1u);

    auto log = a.log(0, 10);
    ASSERT_TRUE(log);
    std::vector<std::string> actions;
    for (const auto& e : *log) actions.push_back(e.action);
    EXPECT_EQ(actions, (std::vector<std::string>{"takedown", "restore", "freeze"}));
    second->reset();
}

// A text is never cut short at a NUL byte: a file id with a NUL and more after it names no
// takedown and no report, and a report's text holding one is either stored whole (SQLite) or
// refused (PostgreSQL, whose client library would cut it there).
TEST_P(SafetyTest, TextsWithANulAreNeverCutShort) {
    const std::string tail("\0x", 2);
    const std::int64_t first = report(1, "malware");
    ASSERT_TRUE(m_service->takedown(first, "bad", "op"));
    const std::int64_t second = report(2, "malware");
    EXPECT_EQ(*m_store->resolve_reports(file_id(2) + tail, ReportState::dismissed, 5), 0);
    EXPECT_EQ((*m_store->get_report(second))->state, ReportState::open);
    EXPECT_EQ(m_store->restore_takedown(file_id(1) + tail, 5, LogEntry{0, 5, "op", "restore", "x", "y"})
                  .error()
                  .code,
              store::StoreError::not_found);
    EXPECT_EQ(m_store->active_takedowns()->size(), 1u);

    ReportRecord r;
    r.reference = "ref-nul";
    r.file_id = file_id(3);
    r.reason = "cut" + tail;
    auto stored = m_store->insert_report(r);
    if (stored) {
        EXPECT_EQ((*m_store->get_report(stored->report_id))->reason, r.reason);
    } else {
        EXPECT_EQ(m_store->open_reports(10)->size(), 1u);  // only the second report
    }
    const auto before = m_store->log(0, 100)->size();
    if (m_store->append_log(LogEntry{0, 6, "op", "note", "t", "why" + tail})) {
        EXPECT_EQ(m_store->log(0, 100)->back().why, "why" + tail);
    } else {
        EXPECT_EQ(m_store->log(0, 100)->size(), before);
    }
}

// Log lines appended by two instances at once all land, each with its own seq, and the log
// reads back in seq order, strictly increasing.
TEST_P(SafetyTest, ConcurrentLogAppendsFromTwoInstances) {
    constexpr int kAppendsPerInstance = 25;
    auto second = open_store();
    ASSERT_TRUE(second) << second.error().message;
    std::vector<std::int64_t> seqs[2];
    const auto append = [&](SafetyStore& s, int who) {
        for (int i = 0; i < kAppendsPerInstance; ++i) {
            auto e = s.append_log(LogEntry{0, 1000 + i, "op" + std::to_string(who), "note", "t", std::to_string(i)});
            if (e) seqs[who].push_back(e->seq);
        }
    };
    std::thread t0(append, std::ref(*m_store), 0);
    std::thread t1(append, std::ref(**second), 1);
    t0.join();
    t1.join();
    ASSERT_EQ(seqs[0].size() + seqs[1].size(), 2u * kAppendsPerInstance);
    auto log = m_store->log(0, 1000);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), 2u * kAppendsPerInstance);
    for (std::size_t i = 1; i < log->size(); ++i) EXPECT_LT((*log)[i - 1].seq, (*log)[i].seq);
    std::vector<std::int64_t> returned(seqs[0]);
    returned.insert(returned.end(), seqs[1].begin(), seqs[1].end());
    std::sort(returned.begin(), returned.end());
    std::vector<std::int64_t> read;
    for (const auto& e : *log) read.push_back(e.seq);
    EXPECT_EQ(returned, read);
    // Paging from any seq sees the rest.
    auto rest = m_store->log((*log)[9].seq, 1000);
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest->size(), log->size() - 10);
    second->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, SafetyTest, ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

// Opening twice applies the PostgreSQL migrations once and records the version under the
// "safety" component.
TEST(PgSafetyStore, MigratesOnceAndRecordsVersion) {
    SATLOAD_REQUIRE_PG();
    store::testing::PgTestSchema schema;
    for (int round = 0; round < 2; ++round) {
        auto db = schema.open(kPgTestConnections);
        ASSERT_TRUE(db);
        auto s = PgSafetyStore::open(db);
        ASSERT_TRUE(s) << s.error().message;
        auto version = (*s)->schema_version();
        ASSERT_TRUE(version) << version.error().message;
        EXPECT_EQ(*version, kPgSafetySchemaVersion);
    }
}

// `since`: a date (midnight UTC) or a UTC date-time; impossible dates and other forms refused.
TEST(Transparency, ParseSince) {
    EXPECT_EQ(parse_since("1970-01-01"), 0);
    EXPECT_EQ(parse_since("2026-11-28"), 1'795'824'000);
    EXPECT_EQ(parse_since("2026-11-28T17:39:07Z"), 1'795'824'000 + 17 * 3600 + 39 * 60 + 7);
    EXPECT_EQ(parse_since("2024-02-29"), 1'709'164'800);
    EXPECT_EQ(parse_since("2000-03-01"), 951'868'800);
    for (const char* bad : {"", "2026-1-28", "2026-11-28 ", "2026/11/28", "2026-13-01", "2026-00-10", "2026-02-29",
                            "2025-04-31", "1969-12-31", "2026-11-28T24:00:00Z", "2026-11-28T12:60:00Z",
                            "2026-11-28T12:00:00", "2026-11-28t12:00:00Z", "20261-11-28", "yesterday",
                            "2026-11-2a"}) {
        EXPECT_FALSE(parse_since(bad)) << bad;
    }
}

// The admin log's actor: a login name of 1 to 64 characters of [A-Za-z0-9._-], nothing else.
TEST(AdminActor, Names) {
    for (const char* ok : {"root", "jane.doe", "ops_1", "a", "x-y"}) EXPECT_TRUE(is_admin_actor_name(ok)) << ok;
    EXPECT_TRUE(is_admin_actor_name(std::string(kAdminNameCharsMax, 'a')));
    EXPECT_FALSE(is_admin_actor_name(std::string(kAdminNameCharsMax + 1, 'a')));
    for (const char* bad : {"", "jane doe", "-rf", ".hidden", "a;b", "é", "a\nb", "operator\r\nX: y"}) {
        EXPECT_FALSE(is_admin_actor_name(bad)) << bad;
    }
}

}  // namespace
}  // namespace satload::safety
