// The per-connection state machine, written once for plain TCP and TLS streams:
//
//   [TLS handshake] -> wait for the first byte (idle) -> read header -> [100 Continue] ->
//   read body -> handler on a worker thread -> write response -> keep-alive ? idle : close
//
// A streamed response (server_exchange's prepared_response with a body) is written as its
// header, then piece after piece, each piece produced on a worker thread while the connection
// waits: chunked transfer coding for HTTP/1.1, raw bytes and a close for HTTP/1.0. The write
// deadline covers the whole response, as it does for one written at once.
//
// Deadlines (tcp_stream::expires_after) are set before every phase; a parse error, an over-size
// body or a failed gzip body is answered with a JSON error and the connection is closed after
// draining what the client is still sending (so it reads the answer instead of a reset).
#include "server_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include "server_exchange.hpp"
#include "text_util.hpp"

namespace synccore::net::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t first_read_size = 4096;
// A body is read in pieces of up to this size. Beast reads as much as the buffer has room for,
// and the body parser empties the buffer after every read, so a buffer left at its header size
// would fetch a 3 MB push in 800 reads of 4 KiB; the larger buffer is released after the body.
constexpr std::size_t body_read_size = 64 * 1024;
constexpr std::chrono::seconds linger_time{2};  // draining after an early error answer
constexpr std::size_t linger_max_bytes = 8 * 1024 * 1024;
constexpr std::chrono::seconds tls_close_time{2};  // waiting for the peer's close_notify

std::string endpoint_text(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "unknown peer";
  const std::string address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

template <class Stream>
class server_session final : public session_handle,
                             public std::enable_shared_from_this<server_session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

 public:
  server_session(tcp::socket socket, std::shared_ptr<server_context> ctx)
      : ctx_(std::move(ctx)),
        stream_(make_stream(std::move(socket), *ctx_)),
        executor_(stream_.get_executor()) {
    connection_.remote_address = endpoint_text(beast::get_lowest_layer(stream_).socket());
    connection_.connection_id = ++ctx_->connections_accepted;
  }

  ~server_session() override { ctx_->sessions.remove(this); }

  server_session(const server_session&) = delete;
  server_session& operator=(const server_session&) = delete;

  void start() {
    ctx_->sessions.add(this->shared_from_this());
    asio::dispatch(executor_,
                   beast::bind_front_handler(&server_session::on_start, this->shared_from_this()));
  }

  void begin_shutdown() override {
    asio::post(executor_, [self = this->shared_from_this()] {
      if (self->phase_ == phase::idle) self->lowest().cancel();  // wakes on_first_bytes
    });
  }

  void force_close() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->close_now(); });
  }

 private:
  enum class phase { idle, busy, closed };

  static Stream make_stream(tcp::socket&& socket, server_context& ctx) {
    if constexpr (is_tls) {
      return Stream(std::move(socket), *ctx.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  const server_options& options() const { return ctx_->options; }

  template <class F>
  auto handler_for(F f) {
    return beast::bind_front_handler(f, this->shared_from_this());
  }

  void on_start() {
    if constexpr (is_tls) {
      lowest().expires_after(options().header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              handler_for(&server_session::on_handshake));
    } else {
      wait_for_request();
    }
  }

  void on_handshake(error_code ec) {
    if (ec) {
      ctx_->log(log_level::debug,
                "TLS handshake with " + connection_.remote_address + " failed: " + ec.message());
      return close_now();
    }
    wait_for_request();
  }

  // Idle phase: wait for the first byte of the next request, so that an idle keep-alive
  // connection can be told apart from a request in progress (graceful shutdown closes the
  // former at once) and gets its own deadline.
  void wait_for_request() {
    if (ctx_->stopping.load()) return graceful_close();
    if (buffer_.size() > 0) {  // a pipelined request is already buffered
      lowest().expires_after(options().header_timeout);
      return read_header();
    }
    phase_ = phase::idle;
    // A new connection's first request gets header_timeout from the accept to its last header
    // byte; later requests get idle_timeout to start, then header_timeout to finish the header.
    lowest().expires_after(first_request_ ? options().header_timeout : options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(first_read_size),
                            handler_for(&server_session::on_first_bytes));
  }

  void on_first_bytes(error_code ec, std::size_t bytes) {
    buffer_.commit(bytes);
    if (ec) {
      if (ec == beast::error::timeout && first_request_) {
        ctx_->log(log_level::info, "closing connection " + connection_.remote_address +
                                       ": no request within the header deadline");
      }
      return close_now();  // idle timeout, peer closed, or shutdown: all normal ends
    }
    phase_ = phase::busy;
    if (!first_request_) lowest().expires_after(options().header_timeout);
    read_header();
  }

  void read_header() {
    phase_ = phase::busy;
    first_request_ = false;
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    http::async_read_header(stream_, buffer_, *parser_, handler_for(&server_session::on_header));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec, "request header");
    const auto& request = parser_->get();
    const auto expect = request.find(http::field::expect);
    if (expect != request.end() && iequals(trim(expect->value()), "100-continue") &&
        request.version() >= 11 && !parser_->is_done()) {
      continue_.emplace(http::status::continue_, request.version());
      lowest().expires_after(options().write_timeout);
      return http::async_write(stream_, *continue_, handler_for(&server_session::on_continue_sent));
    }
    read_body();
  }

  void on_continue_sent(error_code ec, std::size_t) {
    continue_.reset();
    if (ec) return close_now();
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return dispatch_request();
    lowest().expires_after(options().body_timeout);
    const auto remaining = parser_->content_length_remaining();
    const std::size_t wanted =
        remaining ? static_cast<std::size_t>(std::min<std::uint64_t>(*remaining, body_read_size))
                  : body_read_size;
    if (buffer_.capacity() < wanted) buffer_.reserve(wanted);
    http::async_read(stream_, buffer_, *parser_, handler_for(&server_session::on_body));
  }

  void on_body(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec, "request body");
    dispatch_request();
  }

  void on_read_error(error_code ec, const char* what) {
    if (ec == http::error::body_limit) {
      return send_early_error(
          413, "Payload Too Large",
          "Request body exceeds the limit of " + std::to_string(options().body_limit) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_early_error(431, "Request Header Fields Too Large",
                              "Request header is too large");
    }
    if (ec == beast::error::timeout) {
      ctx_->log(log_level::info, "closing connection " + connection_.remote_address + ": " + what +
                                     " not received within its deadline");
      return close_now();
    }
    if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
        is_http_parse_error(ec)) {
      return send_early_error(400, "Bad Request", "Malformed HTTP request");
    }
    close_now();  // the peer went away or the socket failed: nothing to answer
  }

  void dispatch_request() {
    keep_alive_ = parser_->get().keep_alive();
    auto self = this->shared_from_this();
    asio::post(ctx_->workers, [self, request = parser_->release()]() mutable {
      prepared_response response =
          process_request(std::move(request), self->connection_, *self->ctx_);
      asio::post(self->executor_, [self, response = std::move(response)]() mutable {
        if (response.body) return self->send_streamed(std::move(response));
        self->send_response(std::move(response.message), false);
      });
    });
    parser_.reset();
    if (buffer_.capacity() > first_read_size) buffer_.shrink_to_fit();
  }

  // An answer to a request whose body was not (completely) read: the connection cannot be
  // reused, so close after writing and draining.
  void send_early_error(unsigned status, std::string_view error, std::string_view message) {
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    parser_.reset();
    send_response(make_error_response(status, error, message, version), true);
  }

  void send_response(wire_response response, bool early_error) {
    if (phase_ == phase::closed) return;  // force-closed while the handler ran
    phase_ = phase::busy;
    const bool keep_alive = !early_error && keep_alive_ && !ctx_->stopping.load();
    response.keep_alive(keep_alive);
    response_.emplace(std::move(response));
    lowest().expires_after(options().write_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&server_session::on_write, this->shared_from_this(),
                                                keep_alive, early_error));
  }

  void on_write(bool keep_alive, bool early_error, error_code ec, std::size_t) {
    response_.reset();
    if (ec) {
      ctx_->log(log_level::debug,
                "writing to " + connection_.remote_address + " failed: " + ec.message());
      return close_now();
    }
    if (early_error) return linger_then_close();
    if (!keep_alive) return graceful_close();
    wait_for_request();
  }

  void send_streamed(prepared_response response) {
    if (phase_ == phase::closed) return;  // force-closed while the handler ran
    phase_ = phase::busy;
    stream_chunked_ = response.message.version() >= 11;
    stream_keep_alive_ = stream_chunked_ && keep_alive_ && !ctx_->stopping.load();
    stream_head_.emplace(std::move(response.message.base()));
    stream_head_->keep_alive(stream_keep_alive_);
    if (stream_chunked_) stream_head_->chunked(true);
    stream_body_ = std::move(response.body);
    stream_last_ = false;
    head_serializer_.emplace(*stream_head_);
    lowest().expires_after(options().write_timeout);
    http::async_write_header(stream_, *head_serializer_,
                             handler_for(&server_session::on_stream_written));
  }

  // After the header or a piece went out: fetch the next piece, or end the body.
  void on_stream_written(error_code ec, std::size_t) {
    if (ec) return abandon_stream("writing to " + connection_.remote_address + " failed: " +
                                  ec.message(), log_level::debug);
    if (stream_last_) return end_stream();
    asio::post(ctx_->workers, [self = this->shared_from_this(), body = stream_body_] {
      std::string piece;
      bool last = false;
      std::string failure;
      try {
        piece = body->next(last);
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "unknown exception";
      }
      asio::post(self->executor_, [self, piece = std::move(piece), last,
                                   failure = std::move(failure)]() mutable {
        self->send_piece(std::move(piece), last, failure);
      });
    });
  }

  void send_piece(std::string piece, bool last, const std::string& failure) {
    if (phase_ == phase::closed) return abandon_stream({}, log_level::debug);
    if (!failure.empty()) {
      // The status line is gone: the only honest signal left is an incomplete body.
      return abandon_stream("response body for " + connection_.remote_address +
                                " failed after its header was sent, connection cut: " + failure,
                            log_level::error);
    }
    stream_last_ = last;
    stream_piece_ = std::move(piece);
    if (stream_piece_.empty()) {  // an empty chunk would end a chunked body early
      return on_stream_written({}, 0);
    }
    if (stream_chunked_) {
      asio::async_write(stream_, http::make_chunk(asio::buffer(stream_piece_)),
                        handler_for(&server_session::on_stream_written));
    } else {
      asio::async_write(stream_, asio::buffer(stream_piece_),
                        handler_for(&server_session::on_stream_written));
    }
  }

  void end_stream() {
    if (!stream_chunked_) return on_stream_ended({}, 0);
    asio::async_write(stream_, http::make_chunk_last(),
                      handler_for(&server_session::on_stream_ended));
  }

  void on_stream_ended(error_code ec, std::size_t) {
    release_stream();
    if (ec) {
      ctx_->log(log_level::debug,
                "writing to " + connection_.remote_address + " failed: " + ec.message());
      return close_now();
    }
    if (!stream_keep_alive_) return graceful_close();
    wait_for_request();
  }

  void abandon_stream(const std::string& why, log_level level) {
    if (!why.empty()) ctx_->log(level, why);
    release_stream();
    close_now();
  }

  void release_stream() {
    stream_body_.reset();
    head_serializer_.reset();
    stream_head_.reset();
    stream_piece_ = std::string();
  }

  // Read and discard what the client still sends (bounded in time and size) so that closing
  // does not reset the connection before the client has read our answer.
  void linger_then_close() {
    if constexpr (!is_tls) {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    lowest().expires_after(linger_time);
    drained_ = 0;
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drain_buffer_), handler_for(&server_session::on_drained));
  }

  void on_drained(error_code ec, std::size_t bytes) {
    drained_ += bytes;
    if (ec || drained_ > linger_max_bytes) return close_now();
    drain();
  }

  void graceful_close() {
    if constexpr (is_tls) {
      phase_ = phase::busy;
      lowest().expires_after(tls_close_time);
      stream_.async_shutdown(handler_for(&server_session::on_tls_shutdown));
    } else {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      close_now();
    }
  }

  void on_tls_shutdown(error_code) { close_now(); }

  void close_now() {
    phase_ = phase::closed;
    lowest().close();
  }

  std::shared_ptr<server_context> ctx_;
  Stream stream_;
  asio::any_io_executor executor_;  // the connection's strand
  connection_info connection_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<wire_response> response_;
  // A streamed response in progress (see send_streamed).
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> head_serializer_;
  std::shared_ptr<streamed_body> stream_body_;
  std::string stream_piece_;
  bool stream_chunked_ = false;
  bool stream_keep_alive_ = false;
  bool stream_last_ = false;
  std::array<char, 16 * 1024> drain_buffer_{};
  std::size_t drained_ = 0;
  phase phase_ = phase::idle;  // the TLS handshake counts as idle for shutdown
  bool first_request_ = true;
  bool keep_alive_ = false;
};

template <class Stream>
void start_typed(tcp::socket socket, const std::shared_ptr<server_context>& ctx) {
  std::make_shared<server_session<Stream>>(std::move(socket), ctx)->start();
}

}  // namespace

void start_session(tcp::socket socket, const std::shared_ptr<server_context>& ctx) {
  if (ctx->tls) {
    start_typed<tls_stream>(std::move(socket), ctx);
  } else {
    start_typed<plain_stream>(std::move(socket), ctx);
  }
}

}  // namespace synccore::net::detail
