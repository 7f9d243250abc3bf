// An HTTP/1.1 server (Boost.Beast on Asio, optional TLS) that turns each request into a call of
// one handler function. It owns the plumbing every route needs: deadlines against slow or idle
// clients, the body size limit, gzip in both directions, keep-alive, JSON answers for protocol
// errors and handler failures, graceful shutdown on SIGINT/SIGTERM. Handlers run on a worker
// thread pool, never on the I/O threads, so they may block on SQLite. See docs/HTTP_LAYER.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <synccore/net/http_message.hpp>
#include <synccore/net/log_sink.hpp>

namespace synccore::net {

// PEM files for HTTPS. The certificate file may hold the chain (leaf first).
struct tls_files {
  std::string certificate_chain_file;
  std::string private_key_file;
};

struct server_options {
  // Address to bind: an IP literal ("0.0.0.0", "::", "127.0.0.1") or a host name that resolves
  // locally ("localhost"). Default: "127.0.0.1".
  std::string host = "127.0.0.1";
  // TCP port; 0 lets the system pick a free one (read it from start()'s result). Default: 0.
  std::uint16_t port = 0;
  // Threads running the sockets (accept, read, write, TLS). Default: 2.
  std::size_t io_threads = 2;
  // Threads running the handler; at most this many requests are handled at once. Default: 2.
  std::size_t worker_threads = 2;
  // Largest accepted request body, checked on the wire size and again on the decompressed size
  // of a gzip body; larger -> 413 JSON and the connection is closed. Default: 32 MiB.
  std::size_t body_limit = 32 * 1024 * 1024;
  // From the first byte of a request (from the accept, for a connection's first request) to
  // the end of its header; a client still sending headers then (slowloris) is disconnected.
  // Default: 15 s.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(15)};
  // Open connections at most. At the limit the server stops accepting until one closes: new
  // connections wait in the kernel's listen queue (their own connect or read deadline
  // applies) instead of taking file descriptors the database needs. Default: 512.
  std::size_t max_connections = 512;
  // Time allowed to receive the whole body once the header is in. Default: 300 s.
  std::chrono::milliseconds body_timeout{std::chrono::seconds(300)};
  // Time allowed to send one whole response. Default: 300 s.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(300)};
  // Keep-alive: how long a connection may wait for its next request. Default: 30 s.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  // stop(): how long in-flight requests get to finish before their connections are cut.
  // Default: 10 s.
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(10)};
  // Responses of at least this many bytes are gzip-compressed when the request's
  // Accept-Encoding allows gzip. Default: 1024.
  std::size_t gzip_min_size = 1024;
  // Serve HTTPS (TLS 1.2 or later) with these files instead of plain HTTP. Default: none.
  std::optional<tls_files> tls;
  // Where the server reports handler exceptions, cut connections and shutdown. Default: none.
  log_sink log;
};

// Called on a worker thread for every complete request, concurrently from up to
// `worker_threads` threads: it must be thread-safe. It may block. If it throws, the client gets
// 500 {"error":"Server Error","message":"Internal server error"} and the exception's what() is
// logged; the server keeps running.
using http_handler = std::function<http_response(const http_request&)>;

// Where the server listens once started.
struct listen_endpoint {
  std::string address;  // numeric IP, e.g. "127.0.0.1" or "::1"
  std::uint16_t port = 0;
  // Returns "ADDRESS:PORT", with brackets around an IPv6 address ("[::1]:8080").
  std::string to_string() const;
};

// Counters since start(); each value is read atomically but the set is not a snapshot.
struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t requests_handled = 0;  // handler calls completed (including those that threw)
};

class http_server {
 public:
  // Stores the options and the handler; binds nothing and starts no thread.
  // REQUIRES: handler is not empty; io_threads >= 1; worker_threads >= 1.
  http_server(server_options options, http_handler handler);
  // Calls stop() if the server is running.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Loads the TLS files (if any), binds, listens and starts the threads; returns the bound
  // endpoint (so port 0 can be reported as `listening on HOST:PORT`).
  // Throws std::runtime_error with a one-line message naming the address or file on a bind
  // failure, an unresolvable host, or an unreadable/invalid certificate or key; the server is
  // then left stopped with nothing bound.
  // REQUIRES: start() was not called before (a server is started at most once).
  listen_endpoint start();

  // Graceful shutdown; blocks until done: stops accepting, closes idle keep-alive connections,
  // lets requests already being received or handled finish and their responses be written (with
  // `Connection: close`) for up to `shutdown_timeout`, then cuts what remains, waits for running
  // handlers to return and joins all threads. Idempotent; thread-safe.
  // REQUIRES: not called from a handler (it would wait for itself); use request_stop() there.
  void stop();

  // Blocks until SIGINT or SIGTERM arrives or request_stop() or stop() is called, then stop()s
  // the server. Returns the signal number, or 0 otherwise. The signal handlers are installed
  // for the duration of the call only.
  // REQUIRES: start() succeeded; called from one thread at a time.
  int run_until_signal();

  // Makes run_until_signal() return after stopping the server (now, or as soon as it is called).
  // Does not stop the server by itself. Non-blocking, thread-safe, callable from a handler.
  void request_stop();

  // Returns the counters. Thread-safe.
  server_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace synccore::net
