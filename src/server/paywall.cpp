// Paid downloads: POST /api/v1/pay (the L402 payment) and GET /api/v1/earnings.
#include "server/app.h"
#include "server/wallet_context.h"

namespace satload::server {

awaitable<void> App::pay(Exchange& ex) {
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

awaitable<void> App::earnings(Exchange& ex) {
    co_await send_problem(ex, Problem::not_found, "no such resource");
}

}  // namespace satload::server
