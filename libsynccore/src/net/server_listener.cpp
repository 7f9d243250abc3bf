// listener: synchronous bind/listen with clear errors, then an asynchronous accept loop.
#include "server_listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <chrono>
#include <stdexcept>

#include "server_session.hpp"

namespace synccore::net::detail {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// How often a listener at its connection limit looks whether a connection has closed.
constexpr std::chrono::milliseconds connection_limit_poll{20};

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

tcp::endpoint resolve_listen_endpoint(asio::io_context& ioc, const server_options& options) {
  boost::system::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(options.host, ec);
  if (!ec) return tcp::endpoint(literal, options.port);
  tcp::resolver resolver(ioc);
  const auto results =
      resolver.resolve(options.host, std::to_string(options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot listen on " + host_port(options.host, options.port) +
                             ": cannot resolve host: " + (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

}  // namespace

listener::listener(asio::io_context& ioc, std::shared_ptr<server_context> ctx)
    : ioc_(ioc),
      ctx_(std::move(ctx)),
      acceptor_(asio::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()) {
  const tcp::endpoint endpoint = resolve_listen_endpoint(ioc, ctx_->options);
  const auto fail = [&](const char* step, const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    throw std::runtime_error("cannot listen on " +
                             host_port(ctx_->options.host, ctx_->options.port) + ": " + step +
                             ": " + ec.message());
  };
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) fail("open", ec);
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail("set SO_REUSEADDR", ec);
  acceptor_.bind(endpoint, ec);
  if (ec) fail("bind", ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen", ec);
  local_ = acceptor_.local_endpoint(ec);
  if (ec) fail("local address", ec);
}

void listener::start() {
  asio::post(acceptor_.get_executor(),
             boost::beast::bind_front_handler(&listener::do_accept, shared_from_this()));
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void listener::do_accept() {
  if (!acceptor_.is_open()) return;
  const auto open_now = ctx_->sessions.size();
  if (open_now >= ctx_->options.max_connections) {
    if (!at_connection_limit_) {
      ctx_->log(log_level::warning,
                "connection limit reached (" + std::to_string(open_now) +
                    " open); new connections wait until one closes");
      at_connection_limit_ = true;
    }
    retry_timer_.expires_after(connection_limit_poll);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  if (at_connection_limit_) {
    ctx_->log(log_level::info, "below the connection limit again; accepting");
    at_connection_limit_ = false;
  }
  acceptor_.async_accept(asio::make_strand(ioc_), boost::beast::bind_front_handler(
                                                      &listener::on_accept, shared_from_this()));
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || ctx_->stopping.load()) return;  // stopped: drop the socket
  if (ec) {
    // Out of file descriptors or a connection aborted before accept: log, pause, go on.
    ctx_->log(log_level::warning, "accept failed: " + ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  start_session(std::move(socket), ctx_);
  do_accept();
}

}  // namespace synccore::net::detail
