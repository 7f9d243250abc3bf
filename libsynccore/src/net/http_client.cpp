// http_client: request building, the retry loop, response decoding and status policy on top of
// client_connection.
#include <synccore/net/http_client.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <random>
#include <stdexcept>
#include <thread>

#include <synccore/net/gzip.hpp>

#include "client_connection.hpp"
#include "client_errors.hpp"
#include "content_coding.hpp"
#include "tls_context.hpp"

namespace synccore::net {
namespace http = boost::beast::http;
using detail::client_connection;

std::string_view to_string(client_error_kind kind) {
  switch (kind) {
    case client_error_kind::unreachable:
      return "unreachable";
    case client_error_kind::http_status:
      return "http_status";
    case client_error_kind::tls:
      return "tls";
    case client_error_kind::protocol:
      return "protocol";
  }
  return "unknown";
}

namespace {

base_url parse_or_throw(const std::string& url) {
  auto parsed = parse_base_url(url);
  if (!parsed)
    throw std::invalid_argument("invalid master URL '" + url + "': " + parsed.error().message);
  return std::move(parsed).value();
}

// One attempt's result: a response, or an error and whether trying again may help.
struct attempt_result {
  std::optional<http_response> response;
  client_error error;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> retry_after;  // from a 429/503 answer
};

std::optional<std::chrono::milliseconds> parse_retry_after(const http_response& response) {
  const auto value = response.headers.get("Retry-After");
  if (!value) return std::nullopt;
  unsigned seconds = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;  // a date
  return std::chrono::seconds(seconds);
}

}  // namespace

struct http_client::impl {
  explicit impl(client_options o)
      : options(std::move(o)),
        url(parse_or_throw(options.base_url)),
        tls(url.tls ? std::optional<boost::asio::ssl::context>(
                          detail::make_client_tls_context(options.ca_file))
                    : std::nullopt),
        connection(url, tls ? &*tls : nullptr,
                   detail::connection_limits{options.connect_timeout, options.read_timeout,
                                             options.max_response_size}) {}

  client_connection::request_type build(const client_request& request) const;
  attempt_result attempt(client_connection::request_type& wire, const client_request& request);
  attempt_result to_result(client_connection::response_type&& wire,
                           const client_request& request) const;
  void log(log_level level, const std::string& message) const {
    if (!options.log) return;
    try {
      options.log(level, message);
    } catch (...) {  // logging must not break a request
    }
  }

  client_options options;
  base_url url;
  std::optional<boost::asio::ssl::context> tls;
  client_connection connection;
  std::mt19937_64 random{std::random_device{}()};
};

client_connection::request_type http_client::impl::build(const client_request& request) const {
  client_connection::request_type wire;
  wire.method_string(request.method);
  const std::string_view target = request.target.empty() ? "/" : std::string_view(request.target);
  wire.target(url.base_path + (target.front() == '/' ? "" : "/") + std::string(target));
  wire.version(11);
  wire.set(http::field::host, url.host_header());
  wire.set(http::field::user_agent, options.user_agent);
  wire.set(http::field::accept_encoding, "gzip");
  for (const auto& [name, value] : options.headers) wire.set(name, value);
  for (const auto& [name, value] : request.headers) wire.set(name, value);
  if (request.gzip_body && !request.body.empty()) {
    wire.body() = gzip_compress(request.body);
    wire.set(http::field::content_encoding, "gzip");
  } else {
    wire.body() = request.body;
  }
  wire.prepare_payload();
  return wire;
}

attempt_result http_client::impl::attempt(client_connection::request_type& wire,
                                          const client_request& request) {
  const auto failed = [&](const detail::transfer_failure& f) {
    attempt_result r;
    r.error = detail::classify_failure(f, url, options);
    const bool sent =
        f.phase == detail::transfer_phase::write || f.phase == detail::transfer_phase::read;
    r.retryable = r.error.kind == client_error_kind::unreachable && (request.idempotent || !sent);
    return r;
  };
  const bool reused = connection.is_open();
  if (!reused) {
    if (auto f = connection.open()) return failed(*f);
  }
  client_connection::response_type response;
  auto f = connection.exchange(wire, response);
  if (f && reused && detail::is_stale_connection(*f)) {
    log(log_level::debug,
        "kept-alive connection to " + url.authority() + " was closed by the server; reconnecting");
    if (auto g = connection.open()) return failed(*g);
    f = connection.exchange(wire, response);
  }
  if (f) return failed(*f);
  return to_result(std::move(response), request);
}

attempt_result http_client::impl::to_result(client_connection::response_type&& wire,
                                            const client_request& request) const {
  attempt_result r;
  http_response response;
  response.status = wire.result_int();
  for (const auto& field : wire) {
    response.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(wire.body());
  const auto coding = detail::classify_content_encoding(
      response.headers.get("Content-Encoding").value_or(std::string_view()));
  if (coding == detail::body_coding::unsupported) {
    r.error.kind = client_error_kind::protocol;
    r.error.message = "response from " + url.authority() + " uses an unsupported Content-Encoding";
    return r;
  }
  if (coding == detail::body_coding::gzip && !response.body.empty()) {
    auto decoded = gzip_decompress(response.body, options.max_response_size);
    if (!decoded) {
      r.error.kind = client_error_kind::protocol;
      r.error.message = "response from " + url.authority() + ": " + decoded.error().message;
      return r;
    }
    response.body = std::move(*decoded);
  }
  if (response.status >= 200 && response.status < 300) {
    r.response = std::move(response);
    return r;
  }
  r.error.kind = client_error_kind::http_status;
  r.error.status = response.status;
  r.error.message = url.authority() + " answered " + std::to_string(response.status) + " " +
                    std::string(http::obsolete_reason(wire.result()));
  r.retryable = (response.status >= 500 || response.status == 429) && request.idempotent;
  if (response.status == 429 || response.status == 503) r.retry_after = parse_retry_after(response);
  r.error.body = std::move(response.body);
  return r;
}

http_client::http_client(client_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

http_client::~http_client() = default;

const base_url& http_client::url() const { return impl_->url; }

void http_client::close() { impl_->connection.close(); }

client_result http_client::perform(const client_request& request) {
  impl& m = *impl_;
  auto wire = m.build(request);
  const int max_attempts = std::max(1, m.options.retry.max_attempts);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int attempt = 1;; ++attempt) {
    attempt_result result = m.attempt(wire, request);  // serialising leaves `wire` unchanged
    if (result.response) return std::move(*result.response);
    result.error.attempts = attempt;
    if (!result.retryable || attempt >= max_attempts) return std::move(result.error);

    auto delay = backoff_delay(m.options.retry, attempt, unit(m.random));
    if (result.retry_after)
      delay = std::max(delay, std::min(*result.retry_after, m.options.retry.max_backoff));
    m.log(log_level::warning, request.method + " " + m.url.base_path +
                                  request.target.substr(0, request.target.find('?')) + " failed (" +
                                  std::string(to_string(result.error.kind)) + ": " +
                                  result.error.message + "); retry " + std::to_string(attempt) +
                                  " of " + std::to_string(max_attempts - 1) + " in " +
                                  std::to_string(delay.count()) + " ms");
    if (m.options.sleep) {
      m.options.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace synccore::net
