// The transport-independent half of a server request: turn a received Beast request into an
// http_request (removing gzip), call the handler (turning exceptions into 500), and turn its
// http_response into a Beast response (adding gzip), or into a header and a streamed_body when
// the handler's body is too long to hold. Runs on a worker thread. Internal.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server_context.hpp"
#include "streamed_body.hpp"

namespace synccore::net::detail {

using wire_request = boost::beast::http::request<boost::beast::http::string_body>;
using wire_response = boost::beast::http::response<boost::beast::http::string_body>;

struct connection_info {
  std::string remote_address;
  std::uint64_t connection_id = 0;
};

// A handler's body_source that has not finished within this many bytes is streamed.
constexpr std::size_t stream_threshold = 1024 * 1024;

// What goes on the wire: a whole response, or (`body` set) its header followed by a body that
// is produced while it is written. In the second case `message` has an empty body, no
// Content-Length, and Content-Encoding already set when `body` compresses.
struct prepared_response {
  wire_response message;
  std::shared_ptr<streamed_body> body;
};

// Returns the response to `request` (moved from). Never throws for anything the handler or the
// input does; the caller sets keep-alive and the framing of a streamed body. Counts the request
// in ctx.requests_handled.
prepared_response process_request(wire_request&& request, const connection_info& connection,
                              server_context& ctx);

// Returns a JSON error response {"error":..., "message":...} for HTTP `version` (10 or 11).
wire_response make_error_response(unsigned status, std::string_view error, std::string_view message,
                                  unsigned version);

}  // namespace synccore::net::detail
