// One HTTP connection of the server: reads requests under deadlines, hands each one to the
// worker pool, writes the answer, keeps the connection alive or closes it. Each session runs on
// its own strand and keeps itself alive with shared_from_this(). Internal.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "server_context.hpp"

namespace synccore::net::detail {

// Serves `socket` (whose executor must be a strand of the server's io_context) as plain HTTP
// or, when ctx->tls is set, as HTTPS. Registers the session in ctx->sessions; returns at once.
void start_session(boost::asio::ip::tcp::socket socket, const std::shared_ptr<server_context>& ctx);

}  // namespace synccore::net::detail
