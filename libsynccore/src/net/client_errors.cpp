// classify_failure / is_stale_connection.
#include "client_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace synccore::net::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool is_http_error(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

bool is_tls_error(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category();
}

// A peer that vanished without a TLS close_notify: a cut connection, not a TLS failure.
bool is_truncation(const boost::system::error_code& ec) {
  return ec == asio::ssl::error::stream_truncated;
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

client_error make(client_error_kind kind, std::string message) {
  client_error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

}  // namespace

client_error classify_failure(const transfer_failure& failure, const base_url& url,
                              const client_options& options) {
  const auto& ec = failure.ec;
  const std::string where = url.authority();
  const bool timeout = ec == beast::error::timeout;
  using kind = client_error_kind;
  switch (failure.phase) {
    case transfer_phase::resolve:
      return make(kind::unreachable, timeout ? "resolving " + url.host + " timed out after " +
                                                   ms(options.connect_timeout)
                                             : "cannot resolve " + url.host + ": " + ec.message());
    case transfer_phase::connect:
      return make(kind::unreachable, timeout ? "connecting to " + where + " timed out after " +
                                                   ms(options.connect_timeout)
                                             : "cannot connect to " + where + ": " + ec.message());
    case transfer_phase::handshake:
      if (timeout) {
        return make(kind::unreachable, "TLS handshake with " + where + " timed out after " +
                                           ms(options.connect_timeout));
      }
      if (is_tls_error(ec) && !is_truncation(ec)) {
        return make(kind::tls, "TLS handshake with " + where + " failed: " +
                                   (failure.detail.empty() ? ec.message() : failure.detail));
      }
      return make(kind::unreachable,
                  "connection to " + where + " lost during the TLS handshake: " + ec.message());
    case transfer_phase::write:
      return make(
          kind::unreachable,
          timeout ? "sending the request to " + where + " stalled for " + ms(options.read_timeout)
                  : "connection to " + where + " lost while sending the request: " + ec.message());
    case transfer_phase::read:
      break;
  }
  if (timeout) {
    return make(kind::unreachable,
                failure.response_started
                    ? "response from " + where + " stalled for " + ms(options.read_timeout)
                    : "no response from " + where + " within " + ms(options.read_timeout));
  }
  if (ec == http::error::partial_message || (failure.response_started && is_truncation(ec))) {
    return make(kind::unreachable, "connection to " + where + " cut in the middle of the response");
  }
  if (ec == http::error::end_of_stream || is_truncation(ec)) {
    return make(kind::unreachable, where + " closed the connection without answering");
  }
  if (ec == http::error::body_limit) {
    return make(kind::protocol, "response from " + where + " exceeds " +
                                    std::to_string(options.max_response_size) + " bytes");
  }
  if (is_http_error(ec)) {
    return make(kind::protocol, "malformed HTTP response from " + where + ": " + ec.message());
  }
  return make(kind::unreachable,
              "connection to " + where + " failed while reading the response: " + ec.message());
}

bool is_stale_connection(const transfer_failure& failure) {
  const auto& ec = failure.ec;
  if (failure.phase == transfer_phase::write) return ec != beast::error::timeout;
  if (failure.phase != transfer_phase::read || failure.response_started) return false;
  return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof || is_truncation(ec);
}

}  // namespace synccore::net::detail
