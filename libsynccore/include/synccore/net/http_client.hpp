// The HTTP(S) client the slave agent talks to its master with: one base URL, one request at a
// time, a kept-alive connection reused across requests (and re-opened transparently when the
// server closed it), deadlines on connect and on every read and write, gzip both ways, bounded
// retries with backoff, and failures classified so the agent can choose its exit code.
// The API is synchronous; the I/O underneath is asynchronous (Boost.Beast) so every step has
// a deadline. See docs/HTTP_LAYER.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <synccore/net/http_message.hpp>
#include <synccore/net/log_sink.hpp>
#include <synccore/net/retry_policy.hpp>
#include <synccore/net/url.hpp>

namespace synccore::net {

struct client_options {
  // `http://host[:port][/base]` or `https://...` (see parse_base_url). Required.
  std::string base_url;
  // PEM file of extra trusted CA certificates, added to the system trust store (`--ca-file`).
  // Default: none (system store only).
  std::optional<std::string> ca_file;
  // Name resolution + TCP connect + TLS handshake, together. Default: 10 s.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Longest wait for progress while sending a request or receiving a response, the server's
  // think time before its first byte included. Reset whenever bytes move. Default: 60 s.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
  // Largest response body accepted, after gzip decoding; larger is a protocol error.
  // Default: 256 MiB.
  std::size_t max_response_size = 256 * 1024 * 1024;
  // Retries of connection failures, timeouts, cut connections, 5xx and 429. Default: see
  // retry_policy.
  retry_policy retry;
  // Header fields sent with every request (e.g. X-Sync-API-Key); a request's own fields of the
  // same name replace them. Default: none.
  http_headers headers;
  // User-Agent header. Default: "ruxx-sync".
  std::string user_agent = "ruxx-sync";
  // Waits between attempts; tests inject a fake. Default (empty): sleeps the calling thread.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Where retries and reconnects are reported. Default: none.
  log_sink log;
};

struct client_request {
  std::string method = "GET";
  // Path and query relative to the base URL's path, e.g. "/api/sync/pull?table=users".
  std::string target = "/";
  http_headers headers;
  std::string body;
  // Send the body gzip-compressed with `Content-Encoding: gzip`. Only for servers known to
  // accept it: the PHP master does not. Default: false.
  bool gzip_body = false;
  // false: once the request may have reached the server (it was sent), a failure or a 5xx is
  // not retried, for operations that must not be applied twice. Connection failures before
  // sending are always retried. Default: true.
  bool idempotent = true;
};

enum class client_error_kind {
  unreachable,  // DNS, connect refused, timeout, connection cut: agent exit code 3
  http_status,  // the server answered with a non-2xx status (see status and body)
  tls,          // the TLS handshake failed: certificate not trusted, wrong host name, ...
  protocol,     // the answer is not valid HTTP, not valid gzip, or too large
};

// Returns "unreachable", "http_status", "tls" or "protocol".
std::string_view to_string(client_error_kind kind);

struct client_error {
  client_error_kind kind = client_error_kind::unreachable;
  std::string message;  // one line naming the server and the cause; no secrets
  unsigned status = 0;  // http_status: the last status received
  std::string body;     // http_status: the last response body (decoded)
  int attempts = 0;     // attempts made, the first included
};

// The outcome of perform(): a 2xx response or a classified error.
class client_result {
 public:
  client_result(http_response response) : state_(std::move(response)) {}  // NOLINT: implicit
  client_result(client_error error) : state_(std::move(error)) {}         // NOLINT: implicit

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  // REQUIRES: has_value().
  const http_response& value() const& { return std::get<0>(state_); }
  http_response&& value() && { return std::get<0>(std::move(state_)); }
  const http_response* operator->() const { return &value(); }
  // REQUIRES: !has_value().
  const client_error& error() const& { return std::get<1>(state_); }

 private:
  std::variant<http_response, client_error> state_;
};

class http_client {
 public:
  // Parses the URL and prepares TLS; connects lazily on the first request.
  // Throws std::invalid_argument for an invalid base_url and std::runtime_error for a CA file
  // that cannot be loaded (both configuration errors: the agent's exit code 2).
  explicit http_client(client_options options);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends `request` to base_url + request.target and returns the 2xx response (body decoded)
  // or the error of the last attempt. Blocks for at most about
  // max_attempts * (connect_timeout + read_timeout per stall) + the backoff delays.
  // Not thread-safe: one request at a time per client.
  client_result perform(const client_request& request);

  // Closes the kept-alive connection, if any. The next perform() reconnects.
  void close();

  // Returns the parsed base URL.
  const base_url& url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace synccore::net
