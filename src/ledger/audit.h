// The ledger audit: recomputes the journal's hash chain and compares it with the checkpoint,
// replays every entry to check the accounts' totals, and checks the ledger's invariants.
// It trusts nothing the store says about itself; it reports each check and its outcome.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger_store.h"

namespace satload::ledger {

struct AuditCheck {
    std::string name;    // stable snake_case name, e.g. "journal_chain"
    bool passed = true;
    std::string detail;  // what was checked, or the first violation found
};

struct AuditReport {
    std::vector<AuditCheck> checks;
    std::int64_t entries = 0;                   // journal entries read
    std::size_t accounts = 0;
    std::optional<std::int64_t> first_bad_seq;  // first entry whose hash does not verify

    [[nodiscard]] bool passed() const;
    [[nodiscard]] const AuditCheck* find(std::string_view name) const;
    // One line per check: "ok    name: detail" or "FAIL  name: detail".
    [[nodiscard]] std::string text() const;
};

// Reads the checkpoint first and then one snapshot of the store, so commits made meanwhile
// can only put the journal ahead of the checkpoint, never behind it.
[[nodiscard]] AuditReport audit_ledger(LedgerStore& store,
                                       const std::filesystem::path& checkpoint_file);

}  // namespace satload::ledger
