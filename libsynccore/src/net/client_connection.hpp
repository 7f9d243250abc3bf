// One client connection to the master (plain TCP or TLS), driven synchronously over an internal
// io_context: every step is an asynchronous Beast operation with a deadline, run to completion
// before returning. Failures are returned as data for http_client to classify. Internal.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <synccore/net/url.hpp>

namespace synccore::net::detail {

enum class transfer_phase { resolve, connect, handshake, write, read };

struct transfer_failure {
  transfer_phase phase = transfer_phase::connect;
  boost::system::error_code ec;
  bool response_started = false;  // read: some bytes of the response had arrived
  std::string detail;             // handshake: the certificate verification result, if any
};

struct connection_limits {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{60000};
  std::size_t max_body = 0;  // wire size of a response body
};

class client_connection {
 public:
  using request_type = boost::beast::http::request<boost::beast::http::string_body>;
  using response_type = boost::beast::http::response<boost::beast::http::string_body>;

  // `tls` is null for http://; otherwise it must outlive the connection.
  client_connection(base_url url, boost::asio::ssl::context* tls, connection_limits limits);
  ~client_connection();
  client_connection(const client_connection&) = delete;
  client_connection& operator=(const client_connection&) = delete;

  // True when a connection is open and may be reused.
  bool is_open() const noexcept { return open_; }

  // Closes any open connection, then resolves, connects and (https) handshakes, all within
  // connect_timeout. Returns the failure, or nullopt when connected.
  std::optional<transfer_failure> open();

  // Sends `request` and reads one final response into `response`. Afterwards is_open() says
  // whether the connection can be reused (it is closed after a failure, `Connection: close`,
  // or an HTTP/1.0 answer). REQUIRES: is_open().
  std::optional<transfer_failure> exchange(request_type& request, response_type& response);

  void close() noexcept;

 private:
  template <class Stream>
  std::optional<transfer_failure> exchange_on(Stream& stream, request_type& request,
                                              response_type& response);
  template <class Start>
  boost::system::error_code run(Start&& start);

  base_url url_;
  boost::asio::ssl::context* tls_context_;
  connection_limits limits_;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::beast::tcp_stream> plain_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  boost::beast::flat_buffer buffer_;
  bool open_ = false;
  bool reusable_ = false;  // the last response allows keep-alive
};

}  // namespace synccore::net::detail
