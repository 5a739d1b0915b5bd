// The wallet seed shared by every server on one PostgreSQL database (serve --db postgresql://…):
// the same encrypted bytes as <data>/wallet.seed, in the one-row table wallet_seed (component
// "wallet_seed"), so every instance derives the same deposit addresses.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "onchain/seed.h"
#include "store/pg_db.h"

namespace satload::onchain {

inline constexpr std::string_view kPgSeedComponent = "wallet_seed";

// The database's seed, decrypted with `passphrase`:
// - none stored and no `file`: fresh entropy is stored (created); of instances racing to
//   create it the first insert wins and every other one uses the winner's;
// - none stored and a `file` in the data directory: the file's bytes are stored (moved_in;
//   the file is kept);
// - one stored and a `file` whose seed differs: conflict (neither is used);
// - a passphrase that does not open the stored seed (or the file): wrong_passphrase.
// The first call on a schema creates the table (a versioned migration).
[[nodiscard]] Result<LoadedSeed, SeedFailure> load_or_create_shared_seed(store::PgDb& db,
                                                                         const std::filesystem::path& file,
                                                                         std::string_view passphrase,
                                                                         SeedKdfParams params = {});

// Creates or brings the seed table to this program's version, storing no seed
// (`satload admin migrate`; load_or_create_shared_seed does it too).
[[nodiscard]] store::StoreResult<void> migrate_shared_seed(store::PgDb& db);

}  // namespace satload::onchain
