// client_connection: resolve/connect/handshake/write/read, each an async operation with a
// deadline, run on a private io_context until it completes.
#include "client_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "resolve.hpp"

namespace synccore::net::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t response_header_limit = 64 * 1024;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// SSL_set_tlsext_host_name without its macro's old-style cast.
bool set_sni(SSL* ssl, const std::string& host) {
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())) == 1;
}

}  // namespace

client_connection::client_connection(base_url url, asio::ssl::context* tls,
                                     connection_limits limits)
    : url_(std::move(url)), tls_context_(tls), limits_(limits) {}

client_connection::~client_connection() { close(); }

template <class Start>
error_code client_connection::run(Start&& start) {
  error_code result = asio::error::would_block;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc_.restart();
  ioc_.run();
  return result;
}

void client_connection::close() noexcept {
  error_code ignored;
  if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
  if (plain_) plain_->socket().close(ignored);
  tls_.reset();
  plain_.reset();
  buffer_.clear();
  open_ = false;
  ioc_.restart();
  ioc_.poll();  // let cancelled operations finish so nothing refers to the old streams
}

std::optional<transfer_failure> client_connection::open() {
  close();
  const auto deadline = std::chrono::steady_clock::now() + limits_.connect_timeout;

  const resolve_result resolved = resolve_with_deadline(url_.host, url_.port, deadline);
  if (resolved.ec) return transfer_failure{transfer_phase::resolve, resolved.ec, false, {}};

  if (tls_context_ != nullptr) {
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_context_);
  } else {
    plain_ = std::make_unique<beast::tcp_stream>(ioc_);
  }
  beast::tcp_stream& lowest = tls_ ? beast::get_lowest_layer(*tls_) : *plain_;
  lowest.expires_at(deadline);
  error_code ec =
      run([&](auto handler) { lowest.async_connect(resolved.endpoints, std::move(handler)); });
  if (ec) {
    close();
    return transfer_failure{transfer_phase::connect, ec, false, {}};
  }
  error_code option_ec;
  lowest.socket().set_option(tcp::no_delay(true), option_ec);

  if (tls_) {
    // SNI (names only: an IP literal must not be sent) and host name verification.
    if (!is_ip_literal(url_.host) && !set_sni(tls_->native_handle(), url_.host)) {
      close();
      return transfer_failure{
          transfer_phase::handshake,
          error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
          false,
          {}};
    }
    tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    lowest.expires_at(deadline);
    ec = run([&](auto handler) {
      tls_->async_handshake(asio::ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      const long verify = SSL_get_verify_result(tls_->native_handle());
      std::string detail =
          verify == X509_V_OK ? std::string() : X509_verify_cert_error_string(verify);
      close();
      return transfer_failure{transfer_phase::handshake, ec, false, std::move(detail)};
    }
  }
  open_ = true;
  return std::nullopt;
}

template <class Stream>
std::optional<transfer_failure> client_connection::exchange_on(Stream& stream,
                                                               request_type& request,
                                                               response_type& response) {
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  http::serializer<true, http::string_body> serializer(request);
  while (!serializer.is_done()) {
    lowest.expires_after(limits_.read_timeout);
    const error_code ec =
        run([&](auto handler) { http::async_write_some(stream, serializer, std::move(handler)); });
    if (ec) return transfer_failure{transfer_phase::write, ec, false, {}};
  }
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(response_header_limit);
    parser.body_limit(limits_.max_body);
    if (request.method() == http::verb::head) parser.skip(true);
    while (!parser.is_done()) {
      lowest.expires_after(limits_.read_timeout);
      const error_code ec = run([&](auto handler) {
        http::async_read_some(stream, buffer_, parser, std::move(handler));
      });
      if (ec) return transfer_failure{transfer_phase::read, ec, parser.got_some(), {}};
    }
    const unsigned status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;  // interim (100 Continue)
    reusable_ = parser.get().keep_alive() && !parser.need_eof();
    response = parser.release();
    return std::nullopt;
  }
}

std::optional<transfer_failure> client_connection::exchange(request_type& request,
                                                            response_type& response) {
  reusable_ = false;
  std::optional<transfer_failure> failure =
      tls_ ? exchange_on(*tls_, request, response) : exchange_on(*plain_, request, response);
  if (failure || !reusable_) close();
  return failure;
}

}  // namespace synccore::net::detail
