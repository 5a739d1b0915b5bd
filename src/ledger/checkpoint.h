// The journal head checkpointed outside the database: a small file beside it, replaced
// atomically (write temp, fsync, rename, fsync directory) after every commit, so that a
// journal whose newest entries were cut off no longer matches it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/journal.h"
#include "ledger/ledger_store.h"

namespace satload::ledger {

// Largest checkpoint file we read; a real one is under 150 bytes.
inline constexpr std::size_t kCheckpointBytesMax = 4'096;

// The file's text for `head`, and the head a text names: nullopt for anything but a
// checkpoint (read_checkpoint's `corrupt`). Pure, so fuzzed (fuzz/ledger_checkpoint_fuzz.cpp).
[[nodiscard]] std::string format_checkpoint(const JournalHead& head);
[[nodiscard]] std::optional<JournalHead> parse_checkpoint(std::string_view text);

// Replaces `file` durably with `head`.
[[nodiscard]] StoreResult<void> write_checkpoint(const std::filesystem::path& file,
                                                 const JournalHead& head);
// nullopt when the file does not exist; `corrupt` when it is not a checkpoint.
[[nodiscard]] StoreResult<std::optional<JournalHead>> read_checkpoint(
    const std::filesystem::path& file);

// The conventional checkpoint path for a database file: "<file>.head".
[[nodiscard]] std::filesystem::path checkpoint_path_for(const std::filesystem::path& db_file);

}  // namespace satload::ledger
