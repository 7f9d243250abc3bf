// The transport-independent half of a server request: turn a received Beast request into an
// http_request (removing gzip), call the handler (turning exceptions into 500), and turn its
// http_response into a Beast response (adding gzip). Runs on a worker thread. Internal.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "server_context.hpp"

namespace synccore::net::detail {

using wire_request = boost::beast::http::request<boost::beast::http::string_body>;
using wire_response = boost::beast::http::response<boost::beast::http::string_body>;

struct connection_info {
  std::string remote_address;
  std::uint64_t connection_id = 0;
};

// Returns the response to `request` (moved from). Never throws for anything the handler or the
// input does; the caller sets keep-alive. Counts the request in ctx.requests_handled.
wire_response process_request(wire_request&& request, const connection_info& connection,
                              server_context& ctx);

// Returns a JSON error response {"error":..., "message":...} for HTTP `version` (10 or 11).
wire_response make_error_response(unsigned status, std::string_view error, std::string_view message,
                                  unsigned version);

}  // namespace synccore::net::detail
