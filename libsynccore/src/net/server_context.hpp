// State shared by the server and its sessions (options, handler, worker executor, TLS context,
// the registry of open sessions used by graceful shutdown, counters). Sessions hold it by
// shared_ptr so it outlives every one of them. Internal: not part of the public API.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <synccore/net/http_server.hpp>

namespace synccore::net::detail {

// What graceful shutdown needs from a session. Both calls are thread-safe: they post to the
// session's strand.
class session_handle {
 public:
  virtual ~session_handle() = default;
  // Finish the request in progress (if any), answer it with `Connection: close`, then close;
  // an idle keep-alive connection closes at once.
  virtual void begin_shutdown() = 0;
  // Close the socket now, abandoning whatever is in progress.
  virtual void force_close() = 0;
};

// The open sessions, by weak reference. Thread-safe.
class session_registry {
 public:
  void add(const std::shared_ptr<session_handle>& session);
  // Called from the session's destructor.
  void remove(const session_handle* session);
  // Returns the sessions still alive.
  std::vector<std::shared_ptr<session_handle>> snapshot() const;
  std::size_t size() const;
  // Waits until no session is registered or `deadline` passes; returns true when empty.
  bool wait_empty_until(std::chrono::steady_clock::time_point deadline) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable emptied_;
  std::unordered_map<const session_handle*, std::weak_ptr<session_handle>> sessions_;
};

struct server_context {
  server_context(server_options opts, http_handler h, boost::asio::any_io_executor worker_pool)
      : options(std::move(opts)), handler(std::move(h)), workers(std::move(worker_pool)) {}

  const server_options options;
  const http_handler handler;
  const boost::asio::any_io_executor workers;    // where handlers run
  std::optional<boost::asio::ssl::context> tls;  // set before the first accept when HTTPS
  session_registry sessions;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> requests_handled{0};

  // Forwards to options.log if set; never throws.
  void log(log_level level, std::string_view message) const noexcept;
};

}  // namespace synccore::net::detail
