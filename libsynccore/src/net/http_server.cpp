// http_server: owns the io_context, its I/O threads, the handler thread pool and the listener;
// start() builds them in an order where a failure leaves nothing running, stop() drains.
#include <synccore/net/http_server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "server_context.hpp"
#include "server_listener.hpp"
#include "tls_context.hpp"

namespace synccore::net {
namespace asio = boost::asio;

namespace {

// After force-closing connections, how long to wait for their sessions to end.
constexpr std::chrono::seconds force_close_grace{2};

void run_io(asio::io_context& ioc, const detail::server_context& ctx) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {  // a bug in a completion handler: keep serving
      ctx.log(log_level::error, std::string("unexpected exception on an I/O thread: ") + e.what());
    }
  }
}

}  // namespace

std::string listen_endpoint::to_string() const {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

struct http_server::impl {
  impl(server_options o, http_handler h) : options(std::move(o)), handler(std::move(h)) {}

  // Stops everything that start() began, in the reverse order. Caller holds `mutex`.
  void shut_down();

  server_options options;
  http_handler handler;
  // Destroyed last: sessions still referenced by abandoned handlers close their sockets in it.
  asio::io_context ioc{static_cast<int>(options.io_threads)};
  std::optional<asio::thread_pool> workers;
  std::shared_ptr<detail::server_context> ctx;
  std::shared_ptr<detail::listener> listener;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;

  std::mutex mutex;  // serialises start() and stop()
  bool started = false;
  bool running = false;

  std::mutex stop_mutex;
  std::condition_variable stop_requested_cv;
  bool stop_requested = false;
  int stop_signal = 0;
};

void http_server::impl::shut_down() {
  ctx->stopping = true;
  if (listener) listener->stop();
  for (const auto& session : ctx->sessions.snapshot()) session->begin_shutdown();

  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
  bool drained = ctx->sessions.wait_empty_until(deadline);
  if (!drained) {
    ctx->log(log_level::warning, std::to_string(ctx->sessions.size()) +
                                     " connection(s) still busy after the shutdown timeout; "
                                     "closing them");
    for (const auto& session : ctx->sessions.snapshot()) session->force_close();
    workers->stop();  // requests not yet started are abandoned; running handlers finish
  }
  workers->join();
  if (!drained) {
    ctx->sessions.wait_empty_until(std::chrono::steady_clock::now() + force_close_grace);
  }
  work.reset();
  ioc.stop();
  for (std::thread& t : io_threads) {
    if (t.joinable()) t.join();
  }
  io_threads.clear();
  running = false;
}

http_server::http_server(server_options options, http_handler handler)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler))) {
  if (!impl_->handler) throw std::invalid_argument("http_server: the handler is empty");
  if (impl_->options.io_threads == 0 || impl_->options.worker_threads == 0) {
    throw std::invalid_argument("http_server: io_threads and worker_threads must be >= 1");
  }
}

http_server::~http_server() { stop(); }

listen_endpoint http_server::start() {
  const std::lock_guard lock(impl_->mutex);
  impl& m = *impl_;
  if (m.started) throw std::logic_error("http_server::start() called twice");

  // Everything that can fail on input (TLS files, address, port) happens before any thread.
  std::optional<asio::ssl::context> tls;
  if (m.options.tls) tls.emplace(detail::make_server_tls_context(*m.options.tls));
  m.workers.emplace(m.options.worker_threads);
  m.ctx = std::make_shared<detail::server_context>(m.options, m.handler, m.workers->get_executor());
  if (tls) m.ctx->tls.emplace(std::move(*tls));
  try {
    m.listener = std::make_shared<detail::listener>(m.ioc, m.ctx);
  } catch (...) {
    m.workers->stop();
    m.workers->join();
    m.workers.reset();
    m.ctx.reset();
    throw;
  }
  m.started = true;
  m.running = true;
  try {
    m.work.emplace(m.ioc.get_executor());
    m.listener->start();
    for (std::size_t i = 0; i < m.options.io_threads; ++i) {
      m.io_threads.emplace_back([&m] { run_io(m.ioc, *m.ctx); });
    }
  } catch (...) {
    m.shut_down();
    throw;
  }
  const auto endpoint = m.listener->local_endpoint();
  return listen_endpoint{endpoint.address().to_string(), endpoint.port()};
}

void http_server::stop() {
  {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->running) return;
    impl_->shut_down();
    impl_->ctx->log(log_level::info, "HTTP server stopped");
  }
  request_stop();  // a run_until_signal() waiting in another thread returns too
}

int http_server::run_until_signal() {
  {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->started) throw std::logic_error("http_server::run_until_signal() before start()");
    if (!impl_->running) return 0;  // already stopped
  }
  asio::signal_set signals(impl_->ioc, SIGINT, SIGTERM);
  signals.async_wait([this](boost::system::error_code ec, int signal_number) {
    if (ec) return;
    {
      const std::lock_guard lock(impl_->stop_mutex);
      impl_->stop_signal = signal_number;
    }
    request_stop();
  });
  int signal_number = 0;
  {
    std::unique_lock lock(impl_->stop_mutex);
    impl_->stop_requested_cv.wait(lock, [this] { return impl_->stop_requested; });
    signal_number = impl_->stop_signal;
  }
  impl_->ctx->log(log_level::info, signal_number != 0 ? "signal " + std::to_string(signal_number) +
                                                            " received, shutting down"
                                                      : std::string("shutting down"));
  stop();  // joins the I/O threads, so `signals` is no longer in use when it is destroyed
  return signal_number;
}

void http_server::request_stop() {
  const std::lock_guard lock(impl_->stop_mutex);
  impl_->stop_requested = true;
  impl_->stop_requested_cv.notify_all();
}

server_stats http_server::stats() const {
  server_stats s;
  if (impl_->ctx) {
    s.connections_accepted = impl_->ctx->connections_accepted.load();
    s.connections_open = impl_->ctx->sessions.size();
    s.requests_handled = impl_->ctx->requests_handled.load();
  }
  return s;
}

}  // namespace synccore::net
