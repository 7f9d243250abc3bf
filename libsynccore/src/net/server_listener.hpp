// The accept loop of the server: binds and listens synchronously (so errors surface in start()),
// then accepts asynchronously, giving each connection its own strand and session, and pauses
// accepting while options.max_connections are open. Internal.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "server_context.hpp"

namespace synccore::net::detail {

class listener : public std::enable_shared_from_this<listener> {
 public:
  // Resolves ctx->options.host/port, binds and listens. Throws std::runtime_error naming the
  // address on failure; nothing stays bound then.
  listener(boost::asio::io_context& ioc, std::shared_ptr<server_context> ctx);

  // The bound address (the real port when the options asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_; }

  // Starts accepting. Returns at once.
  void start();
  // Closes the acceptor: no connection is accepted afterwards. Thread-safe; returns at once.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  std::shared_ptr<server_context> ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;  // on its own strand
  boost::asio::steady_timer retry_timer_;  // pause after a failed accept (e.g. EMFILE); same strand
  boost::asio::ip::tcp::endpoint local_;
  bool at_connection_limit_ = false;  // logged once per episode; on the acceptor's strand
};

}  // namespace synccore::net::detail
