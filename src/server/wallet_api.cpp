// The wallet API: /api/v1/wallet/... for the logged-in user.
#include "server/app.h"
#include "server/wallet_context.h"

namespace satload::server {

awaitable<void> App::wallet_route(Exchange& ex, std::span<const std::string_view>) {
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

}  // namespace satload::server
