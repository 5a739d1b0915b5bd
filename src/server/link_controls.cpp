// Link controls after upload: PATCH /api/v1/files/<id> by the file's owner.
#include "server/app.h"

namespace satload::server {

// Placeholder until link controls land: the route exists, the feature does not.
awaitable<void> App::owned_file_update(Exchange& ex, const std::string&) {
    co_await send_problem(ex, Problem::method_not_allowed, "changing a file is not supported yet");
}

}  // namespace satload::server
