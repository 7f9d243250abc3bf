// process_request: body decoding, the handler call with its failure policy, response encoding.
#include "server_exchange.hpp"

#include <boost/beast/http/field.hpp>

#include <exception>
#include <optional>
#include <utility>

#include <synccore/net/gzip.hpp>

#include "content_coding.hpp"
#include "text_util.hpp"

namespace synccore::net::detail {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view server_name = "ruxx-sync";

// Header fields the server manages itself; a handler's values for them are ignored.
bool is_managed_field(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection") || iequals(name, "Keep-Alive");
}

wire_response to_wire(http_response&& response, unsigned version) {
  wire_response wire;
  wire.version(version);
  wire.result(response.status);  // throws std::invalid_argument above 999: caught by the caller
  for (auto& [name, value] : response.headers) {
    if (!is_managed_field(name)) wire.insert(name, value);
  }
  if (wire.find(http::field::server) == wire.end()) wire.set(http::field::server, server_name);
  wire.body() = std::move(response.body);
  return wire;
}

// Whether a body of `size` bytes goes out gzip-compressed; adds Vary when it could have been.
bool should_compress(wire_response& response, const wire_request& request,
                     const server_context& ctx, std::size_t size) {
  if (size < ctx.options.gzip_min_size) return false;
  if (response.find(http::field::content_encoding) != response.end()) return false;  // handler did
  response.set(http::field::vary, "Accept-Encoding");
  const auto accept = request.find(http::field::accept_encoding);
  if (accept == request.end() || !accepts_gzip(accept->value())) return false;
  response.set(http::field::content_encoding, "gzip");
  return true;
}

// Lets the handler's source run until it finishes or the body reaches stream_threshold, so
// that most answers are sent whole, with Content-Length. Throws what the source throws.
void collect_short_body(http_response& response) {
  std::string piece;
  while (response.more_body && response.body.size() < stream_threshold) {
    piece.clear();
    const bool more = response.more_body(piece);
    response.body += piece;
    if (!more) response.more_body = nullptr;
  }
}

// A HEAD answer to a long body: runs the source to learn the length, keeping none of it.
std::size_t measure_rest(http_response& response) {
  std::size_t length = response.body.size();
  std::string piece;
  for (bool more = true; more;) {
    piece.clear();
    more = response.more_body(piece);
    length += piece.size();
  }
  response.more_body = nullptr;
  return length;
}

http_request to_plain(const wire_request& wire, std::string body,
                      const connection_info& connection) {
  http_request request;
  request.method = std::string(wire.method_string());
  request.target = std::string(wire.target());
  request.version = wire.version();
  for (const auto& field : wire) {
    request.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(body);
  request.remote_address = connection.remote_address;
  request.connection_id = connection.connection_id;
  return request;
}

std::string describe(const wire_request& request) {
  const std::string_view target = request.target();
  return std::string(request.method_string()) + " " +
         std::string(target.substr(0, target.find('?')));
}

}  // namespace

wire_response make_error_response(unsigned status, std::string_view error, std::string_view message,
                                  unsigned version) {
  wire_response wire = to_wire(json_error(status, error, message), version);
  wire.prepare_payload();
  return wire;
}

namespace {

// `measured_length`: a HEAD answer's body length found by measure_rest (the body itself is not
// there, so it is neither compressed nor measured again).
prepared_response finish_response(http_response&& response, const wire_request& request,
                                  server_context& ctx, std::optional<std::size_t> measured_length) {
  const bool head = request.method() == http::verb::head;
  body_source rest = std::move(response.more_body);
  wire_response wire = to_wire(std::move(response), request.version());
  if (rest) {
    const bool gzip = should_compress(wire, request, ctx, stream_threshold);
    auto body = std::make_shared<streamed_body>(std::move(wire.body()), std::move(rest), gzip);
    wire.body().clear();
    return {std::move(wire), std::move(body)};
  }
  if (!measured_length && should_compress(wire, request, ctx, wire.body().size())) {
    wire.body() = gzip_compress(wire.body());
  }
  wire.prepare_payload();
  if (measured_length) wire.content_length(*measured_length);
  if (head) wire.body().clear();  // keeps Content-Length
  return {std::move(wire), nullptr};
}

}  // namespace

prepared_response process_request(wire_request&& request, const connection_info& connection,
                                  server_context& ctx) {
  const unsigned version = request.version();
  try {
    std::string body = std::move(request.body());
    const auto encoding = request.find(http::field::content_encoding);
    const body_coding coding = encoding == request.end()
                                   ? body_coding::identity
                                   : classify_content_encoding(encoding->value());
    if (coding == body_coding::unsupported) {
      return {make_error_response(415, "Unsupported Media Type",
                                  "Only gzip request bodies are supported", version),
              {}};
    }
    if (coding == body_coding::gzip && !body.empty()) {
      auto decoded = gzip_decompress(body, ctx.options.body_limit);
      if (!decoded) {
        const bool too_large = decoded.error().field == "max_output";
        return {too_large ? make_error_response(413, "Payload Too Large",
                                                "Decompressed request body exceeds " +
                                                    std::to_string(ctx.options.body_limit) +
                                                    " bytes",
                                                version)
                          : make_error_response(400, "Bad Request",
                                                "Request body is not valid gzip", version),
                {}};
      }
      body = std::move(*decoded);
    }
    const std::string what = describe(request);
    http_response response;
    std::optional<std::size_t> measured_length;
    try {
      response = ctx.handler(to_plain(request, std::move(body), connection));
      if (request.method() == http::verb::head && response.more_body) {
        measured_length = measure_rest(response);
      } else {
        collect_short_body(response);
      }
      ++ctx.requests_handled;  // counted once, here or in a catch below
    } catch (const std::exception& e) {
      ++ctx.requests_handled;
      ctx.log(log_level::error, "handler failed for " + what + ": " + e.what());
      return {make_error_response(500, "Server Error", "Internal server error", version), {}};
    } catch (...) {
      ++ctx.requests_handled;
      ctx.log(log_level::error, "handler failed for " + what + ": unknown exception");
      return {make_error_response(500, "Server Error", "Internal server error", version), {}};
    }
    return finish_response(std::move(response), request, ctx, measured_length);
  } catch (const std::exception& e) {  // our own encoding failed (bad status, out of memory)
    ctx.log(log_level::error, std::string("cannot build the response: ") + e.what());
    return {make_error_response(500, "Server Error", "Internal server error", version), {}};
  }
}

}  // namespace synccore::net::detail
