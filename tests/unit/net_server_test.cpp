// http_server over real loopback sockets: routing, keep-alive, limits, deadlines (slowloris),
// gzip both ways, handler failures, graceful stop, signals and TLS.
#include <catch2/catch.hpp>

#include <synccore/net/gzip.hpp>
#include <synccore/net/http_server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using synccore::net::http_request;
using synccore::net::http_response;
using synccore::net::http_server;
using synccore::net::server_options;

namespace {

using wire_response = http::response<http::string_body>;

server_options test_options() {
  server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.header_timeout = 2s;
  o.idle_timeout = 2s;
  o.shutdown_timeout = 5s;
  return o;
}

http_response echo_handler(const http_request& r) {
  http_response resp;
  resp.headers.set("Content-Type", "text/plain");
  resp.headers.set("X-Connection", std::to_string(r.connection_id));
  resp.headers.set("X-Method", r.method);
  resp.body = r.body.empty() ? "path=" + std::string(r.path()) : r.body;
  return resp;
}

// A blocking test client on one TCP connection, every operation bounded by `limit`.
class test_connection {
 public:
  explicit test_connection(std::uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void send_raw(const std::string& bytes) { asio::write(stream_.socket(), asio::buffer(bytes)); }

  // Sends `request` (Content-Length set from the body unless already present).
  void send(http::request<http::string_body> request) {
    if (request.find(http::field::content_length) == request.end() &&
        request.find(http::field::transfer_encoding) == request.end()) {
      request.prepare_payload();
    }
    http::write(stream_.socket(), request);
  }

  // Reads one response; throws when none arrives within `limit` or the connection fails.
  // `head`: the response answers a HEAD request (it has no body whatever its headers say).
  wire_response read(std::chrono::milliseconds limit = 5000ms, bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(limit);
    http::async_read(stream_, buffer_, parser,
                     [&](beast::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    ioc_.run();
    if (result) throw std::runtime_error("read failed: " + result.message());
    return parser.release();
  }

  // Returns true when the server closes the connection (EOF or reset) within `limit`, ignoring
  // any data it sends first.
  bool closed_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0s) return false;
      beast::error_code result = asio::error::would_block;
      char sink[4096];
      stream_.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(left));
      stream_.async_read_some(asio::buffer(sink),
                              [&](beast::error_code ec, std::size_t) { result = ec; });
      ioc_.restart();
      ioc_.run();
      if (result == beast::error::timeout) return false;
      if (result) return true;
    }
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

http::request<http::string_body> make_request(http::verb verb, const std::string& target,
                                              std::string body = {}) {
  http::request<http::string_body> r{verb, target, 11};
  r.set(http::field::host, "127.0.0.1");
  r.body() = std::move(body);
  return r;
}

boost::json::value parse_json(const std::string& text) { return boost::json::parse(text); }

// A running server for one test.
struct running_server {
  running_server(server_options options, synccore::net::http_handler handler)
      : server(std::move(options), std::move(handler)), endpoint(server.start()) {}
  http_server server;
  synccore::net::listen_endpoint endpoint;
};

// Makes a self-signed certificate for localhost/127.0.0.1 in `dir`; returns {cert, key}.
std::pair<std::string, std::string> make_self_signed(const ruxx_test::temp_dir& dir) {
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  return {cert, key};
}

// A TLS connection to 127.0.0.1:`port`, handshake done, the server verified against `cert`.
struct tls_client {
  tls_client(std::uint16_t port, const std::string& cert) {
    ctx.load_verify_file(cert);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::get_lowest_layer(stream).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(asio::ssl::stream_base::client);
  }
  asio::io_context ioc;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
};

}  // namespace

TEST_CASE("server answers a route and exposes the request", "[net][server]") {
  std::mutex mutex;
  http_request seen;
  running_server s(test_options(), [&](const http_request& r) {
    {
      const std::lock_guard lock(mutex);
      seen = r;
    }
    return synccore::net::json_response(200, R"({"ok":true})");
  });
  CHECK(s.endpoint.address == "127.0.0.1");
  CHECK(s.endpoint.port != 0);
  CHECK(s.endpoint.to_string() == "127.0.0.1:" + std::to_string(s.endpoint.port));

  test_connection c(s.endpoint.port);
  auto req =
      make_request(http::verb::get, "/api/sync/pull?table=users&since=2026-11-24+15%3a00%3a00");
  req.set("X-Sync-API-Key", "k");
  c.send(req);
  const wire_response r = c.read();
  CHECK(r.result_int() == 200);
  CHECK(r[http::field::content_type] == "application/json");
  CHECK(r.body() == R"({"ok":true})");

  const std::lock_guard lock(mutex);
  CHECK(seen.method == "GET");
  CHECK(seen.path() == "/api/sync/pull");
  CHECK(seen.query_param("table") == "users");
  CHECK(seen.query_param("since") == "2026-11-24 15:00:00");
  CHECK_FALSE(seen.query_param("missing").has_value());
  CHECK(seen.headers.get("x-sync-api-key") == "k");
  CHECK(seen.remote_address.rfind("127.0.0.1:", 0) == 0);
  CHECK(seen.connection_id == 1);
}

TEST_CASE("server keeps a connection alive for several requests", "[net][server]") {
  running_server s(test_options(), echo_handler);
  test_connection c(s.endpoint.port);
  for (int i = 0; i < 3; ++i) {
    c.send(make_request(http::verb::post, "/echo", "body " + std::to_string(i)));
    const wire_response r = c.read();
    CHECK(r.result_int() == 200);
    CHECK(r.body() == "body " + std::to_string(i));
    CHECK(r[http::field::connection] != "close");
    CHECK(r["X-Connection"] == "1");
  }
  CHECK(s.server.stats().connections_accepted == 1);
  CHECK(s.server.stats().requests_handled == 3);
}

TEST_CASE("server closes HTTP/1.0 connections and Connection: close", "[net][server]") {
  running_server s(test_options(), echo_handler);
  SECTION("HTTP/1.0") {
    test_connection c(s.endpoint.port);
    c.send_raw("GET /old HTTP/1.0\r\nHost: x\r\n\r\n");
    const wire_response r = c.read();
    CHECK(r.version() == 10);
    CHECK(r.body() == "path=/old");
    CHECK(c.closed_within(1s));
  }
  SECTION("HTTP/1.0 keep-alive is honoured") {
    test_connection c(s.endpoint.port);
    c.send_raw("GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    CHECK(c.read().body() == "path=/a");
    c.send_raw("GET /b HTTP/1.0\r\nHost: x\r\n\r\n");
    CHECK(c.read().body() == "path=/b");
    CHECK(c.closed_within(1s));
  }
  SECTION("HTTP/1.1 Connection: close") {
    test_connection c(s.endpoint.port);
    auto req = make_request(http::verb::get, "/x");
    req.keep_alive(false);
    c.send(req);
    const wire_response r = c.read();
    CHECK(r[http::field::connection] == "close");
    CHECK(c.closed_within(1s));
  }
}

TEST_CASE("server rejects a body over the limit with 413 JSON", "[net][server]") {
  server_options o = test_options();
  o.body_limit = 1000;
  running_server s(o, echo_handler);

  SECTION("declared by Content-Length") {
    test_connection c(s.endpoint.port);
    c.send(make_request(http::verb::post, "/push", std::string(5000, 'x')));
    const wire_response r = c.read();
    CHECK(r.result_int() == 413);
    CHECK(r[http::field::content_type] == "application/json");
    const auto json = parse_json(r.body());
    CHECK(json.at("error") == "Payload Too Large");
    CHECK(json.at("message").as_string().size() > 0);
    CHECK(c.closed_within(3s));
  }
  SECTION("chunked") {
    test_connection c(s.endpoint.port);
    auto req = make_request(http::verb::post, "/push", std::string(3000, 'y'));
    req.chunked(true);
    c.send(req);
    CHECK(c.read().result_int() == 413);
  }
  SECTION("at the limit is accepted") {
    test_connection c(s.endpoint.port);
    c.send(make_request(http::verb::post, "/push", std::string(1000, 'z')));
    const wire_response r = c.read();
    CHECK(r.result_int() == 200);
    CHECK(r.body().size() == 1000);
  }
  CHECK(s.server.stats().requests_handled <= 1);
}

TEST_CASE("server cuts a client whose header never completes (slowloris)", "[net][server]") {
  server_options o = test_options();
  o.header_timeout = 400ms;
  running_server s(o, echo_handler);

  SECTION("partial header then silence") {
    test_connection c(s.endpoint.port);
    const auto start = std::chrono::steady_clock::now();
    c.send_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    CHECK(c.closed_within(3s));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= 350ms);
    CHECK(elapsed < 2500ms);
  }
  SECTION("a byte at a time still hits the deadline") {
    test_connection c(s.endpoint.port);
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    for (int i = 0; i < 40 && !cut; ++i) {
      try {
        c.send_raw("X");
      } catch (const std::exception&) {
        cut = true;
        break;
      }
      cut = c.closed_within(100ms);
    }
    CHECK(cut);
    CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  }
  SECTION("a connection that sends nothing") {
    test_connection c(s.endpoint.port);
    CHECK(c.closed_within(3s));
  }
}

TEST_CASE("server closes an idle keep-alive connection after idle_timeout", "[net][server]") {
  server_options o = test_options();
  o.idle_timeout = 300ms;
  o.header_timeout = 5s;
  running_server s(o, echo_handler);
  test_connection c(s.endpoint.port);
  c.send(make_request(http::verb::get, "/"));
  CHECK(c.read().result_int() == 200);
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.closed_within(3s));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("at max_connections the server stops accepting until a connection closes",
          "[net][server]") {
  server_options o = test_options();
  o.max_connections = 2;
  o.header_timeout = 30s;  // the idle connections below must not time out during the test
  o.idle_timeout = 30s;
  running_server s(o, echo_handler);
  auto first = std::make_unique<test_connection>(s.endpoint.port);
  first->send(make_request(http::verb::get, "/one"));
  CHECK(first->read().result_int() == 200);
  test_connection second(s.endpoint.port);
  second.send(make_request(http::verb::get, "/two"));
  CHECK(second.read().result_int() == 200);
  CHECK(s.server.stats().connections_open == 2);

  // The third connects (the kernel's listen queue) but is not served while two are open.
  test_connection third(s.endpoint.port);
  third.send(make_request(http::verb::get, "/three"));
  std::this_thread::sleep_for(400ms);
  CHECK(s.server.stats().connections_accepted == 2);
  CHECK(s.server.stats().requests_handled == 2);

  first.reset();  // one closes: the waiting connection is accepted and answered
  const auto answer = third.read(5000ms);
  CHECK(answer.result_int() == 200);
  CHECK(answer.body() == "path=/three");
  CHECK(s.server.stats().connections_accepted == 3);
}

TEST_CASE("server decompresses a gzip request body", "[net][server][gzip]") {
  server_options o = test_options();
  o.body_limit = 100000;
  running_server s(o, echo_handler);
  test_connection c(s.endpoint.port);
  const std::string original = R"({"table":"users","data":[]})" + std::string(2000, ' ');

  auto req = make_request(http::verb::post, "/push", synccore::net::gzip_compress(original));
  req.set(http::field::content_encoding, "gzip");
  c.send(req);
  wire_response r = c.read();
  CHECK(r.result_int() == 200);
  CHECK(r.body() == original);

  SECTION("corrupt gzip -> 400 JSON") {
    auto bad = make_request(http::verb::post, "/push", "definitely not gzip");
    bad.set(http::field::content_encoding, "gzip");
    c.send(bad);
    r = c.read();
    CHECK(r.result_int() == 400);
    CHECK(parse_json(r.body()).at("error") == "Bad Request");
  }
  SECTION("decompressed size over the limit -> 413") {
    auto bomb = make_request(http::verb::post, "/push",
                             synccore::net::gzip_compress(std::string(200000, 'a')));
    bomb.set(http::field::content_encoding, "gzip");
    c.send(bomb);
    r = c.read();
    CHECK(r.result_int() == 413);
    CHECK(parse_json(r.body()).at("error") == "Payload Too Large");
  }
  SECTION("unsupported coding -> 415") {
    auto br = make_request(http::verb::post, "/push", "xx");
    br.set(http::field::content_encoding, "br");
    c.send(br);
    CHECK(c.read().result_int() == 415);
  }
}

TEST_CASE("server gzips large responses when the client accepts gzip", "[net][server][gzip]") {
  const std::string big(5000, 'r');
  running_server s(test_options(), [&](const http_request& r) {
    http_response resp;
    resp.body = r.path() == "/big" ? big : "small";
    return resp;
  });
  test_connection c(s.endpoint.port);

  auto req = make_request(http::verb::get, "/big");
  req.set(http::field::accept_encoding, "deflate, gzip;q=0.8");
  c.send(req);
  wire_response r = c.read();
  CHECK(r[http::field::content_encoding] == "gzip");
  CHECK(r[http::field::vary] == "Accept-Encoding");
  CHECK(r.body().size() < big.size());
  auto plain = synccore::net::gzip_decompress(r.body(), 1 << 20);
  REQUIRE(plain.has_value());
  CHECK(*plain == big);

  c.send(make_request(http::verb::get, "/big"));  // no Accept-Encoding
  r = c.read();
  CHECK(r.find(http::field::content_encoding) == r.end());
  CHECK(r.body() == big);

  req.set(http::field::accept_encoding, "gzip;q=0");
  c.send(req);
  CHECK(c.read().body() == big);

  auto small = make_request(http::verb::get, "/small");
  small.set(http::field::accept_encoding, "gzip");
  c.send(small);
  r = c.read();
  CHECK(r.find(http::field::content_encoding) == r.end());
  CHECK(r.body() == "small");
}

TEST_CASE("a throwing handler gets 500 JSON and the server keeps serving", "[net][server]") {
  std::vector<std::string> logs;
  std::mutex log_mutex;
  server_options o = test_options();
  o.log = [&](synccore::net::log_level, std::string_view m) {
    const std::lock_guard lock(log_mutex);
    logs.emplace_back(m);
  };
  running_server s(o, [](const http_request& r) -> http_response {
    if (r.path() == "/boom") throw std::runtime_error("SQL: no such table secret_internal");
    return synccore::net::json_response(200, "{}");
  });
  test_connection c(s.endpoint.port);
  c.send(make_request(http::verb::get, "/boom"));
  wire_response r = c.read();
  CHECK(r.result_int() == 500);
  CHECK(r.body() == R"({"error":"Server Error","message":"Internal server error"})");
  c.send(make_request(http::verb::get, "/fine"));  // same connection still usable
  CHECK(c.read().result_int() == 200);
  test_connection c2(s.endpoint.port);
  c2.send(make_request(http::verb::get, "/fine"));
  CHECK(c2.read().result_int() == 200);

  const std::lock_guard lock(log_mutex);
  bool logged = false;
  for (const auto& line : logs)
    logged = logged || line.find("secret_internal") != std::string::npos;
  CHECK(logged);
}

TEST_CASE("server answers malformed requests with 400 and supports 100-continue", "[net][server]") {
  running_server s(test_options(), echo_handler);
  SECTION("garbage") {
    test_connection c(s.endpoint.port);
    c.send_raw("THIS IS NOT HTTP\r\n\r\n");
    const wire_response r = c.read();
    CHECK(r.result_int() == 400);
    CHECK(parse_json(r.body()).at("error") == "Bad Request");
  }
  SECTION("HEAD gets the headers of GET without the body") {
    test_connection c(s.endpoint.port);
    c.send_raw("HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n");
    const wire_response head = c.read(5000ms, true);
    CHECK(head.result_int() == 200);
    CHECK(head[http::field::content_length] == "9");  // "path=/abc"
    c.send_raw("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.read().body() == "path=/next");  // no stray body bytes were left on the connection
  }
  SECTION("Expect: 100-continue") {
    test_connection c(s.endpoint.port);
    c.send_raw("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const wire_response interim = c.read();
    CHECK(interim.result_int() == 100);
    c.send_raw("hello");
    const wire_response r = c.read();
    CHECK(r.result_int() == 200);
    CHECK(r.body() == "hello");
  }
}

TEST_CASE("handlers run concurrently on worker threads", "[net][server]") {
  server_options o = test_options();
  o.worker_threads = 2;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  running_server s(o, [&](const http_request&) {
    const int now = ++inside;
    int prev = max_inside.load();
    while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(300ms);
    --inside;
    return http_response{};
  });
  test_connection a(s.endpoint.port);
  test_connection b(s.endpoint.port);
  a.send(make_request(http::verb::get, "/1"));
  b.send(make_request(http::verb::get, "/2"));
  CHECK(a.read().result_int() == 200);
  CHECK(b.read().result_int() == 200);
  CHECK(max_inside.load() == 2);
}

TEST_CASE("stop() lets an in-flight request finish and closes idle connections", "[net][server]") {
  std::promise<void> handler_started;
  server_options o = test_options();
  o.idle_timeout = 30s;  // the idle connection must be closed by stop(), not by its deadline
  auto s = std::make_unique<running_server>(o, [&](const http_request& r) {
    if (r.path() == "/slow") {
      handler_started.set_value();
      std::this_thread::sleep_for(700ms);
    }
    http_response resp;
    resp.body = "done " + std::string(r.path());
    return resp;
  });
  const auto port = s->endpoint.port;

  test_connection idle(port);
  idle.send(make_request(http::verb::get, "/warmup"));
  CHECK(idle.read().result_int() == 200);

  test_connection busy(port);
  busy.send(make_request(http::verb::get, "/slow"));
  handler_started.get_future().wait();

  const auto start = std::chrono::steady_clock::now();
  s->server.stop();
  const auto stop_took = std::chrono::steady_clock::now() - start;
  CHECK(stop_took >= 400ms);  // it waited for the handler
  CHECK(stop_took < 4s);      // and not for the idle connection's deadline

  const wire_response r = busy.read(1s);  // already written before stop() returned
  CHECK(r.result_int() == 200);
  CHECK(r.body() == "done /slow");
  CHECK(r[http::field::connection] == "close");
  CHECK(idle.closed_within(1s));

  asio::io_context ioc;
  tcp::socket probe(ioc);
  beast::error_code ec;
  probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  CHECK(ec);  // nothing listens any more
  s.reset();
}

TEST_CASE("stop() is bounded by shutdown_timeout", "[net][server]") {
  std::promise<void> handler_started;
  server_options o = test_options();
  o.shutdown_timeout = 300ms;
  running_server s(o, [&](const http_request&) {
    handler_started.set_value();
    std::this_thread::sleep_for(1500ms);
    return http_response{};
  });
  test_connection busy(s.endpoint.port);
  busy.send(make_request(http::verb::get, "/very-slow"));
  handler_started.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  s.server.stop();
  // The connection is cut at the timeout; stop() still waits for the handler to return.
  CHECK(busy.closed_within(100ms));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("run_until_signal returns on SIGTERM and on request_stop", "[net][server]") {
  SECTION("SIGTERM") {
    running_server s(test_options(), echo_handler);
    auto result = std::async(std::launch::async, [&] { return s.server.run_until_signal(); });
    std::this_thread::sleep_for(200ms);  // let it install the handlers
    std::raise(SIGTERM);
    REQUIRE(result.wait_for(5s) == std::future_status::ready);
    CHECK(result.get() == SIGTERM);
  }
  SECTION("stop() from another thread") {
    running_server s(test_options(), echo_handler);
    auto result = std::async(std::launch::async, [&] { return s.server.run_until_signal(); });
    std::this_thread::sleep_for(100ms);
    s.server.stop();
    REQUIRE(result.wait_for(5s) == std::future_status::ready);
    CHECK(result.get() == 0);
  }
  SECTION("request_stop from a handler") {
    http_server* self = nullptr;
    running_server s(test_options(), [&](const http_request&) {
      self->request_stop();
      return http_response{};
    });
    self = &s.server;
    auto result = std::async(std::launch::async, [&] { return s.server.run_until_signal(); });
    test_connection c(s.endpoint.port);
    c.send(make_request(http::verb::post, "/shutdown"));
    CHECK(c.read().result_int() == 200);
    REQUIRE(result.wait_for(5s) == std::future_status::ready);
    CHECK(result.get() == 0);
  }
}

TEST_CASE("start() fails cleanly on a bad address", "[net][server]") {
  running_server first(test_options(), echo_handler);
  server_options o = test_options();
  o.port = first.endpoint.port;
  http_server second(o, echo_handler);
  try {
    second.start();
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(o.port)) !=
          std::string::npos);
  }
  CHECK(second.stats().connections_accepted == 0);

  server_options bad_host = test_options();
  bad_host.host = "no-such-host.invalid";
  http_server third(bad_host, echo_handler);
  CHECK_THROWS_AS(third.start(), std::runtime_error);

  // The first server is unaffected.
  test_connection c(first.endpoint.port);
  c.send(make_request(http::verb::get, "/"));
  CHECK(c.read().result_int() == 200);
}

TEST_CASE("server speaks TLS with a certificate and key", "[net][server][tls]") {
  ruxx_test::temp_dir dir;
  const auto [cert, key] = make_self_signed(dir);
  server_options o = test_options();
  o.tls = synccore::net::tls_files{cert, key};
  running_server s(o, echo_handler);

  tls_client client(s.endpoint.port, cert);
  auto& stream = client.stream;
  for (int i = 0; i < 2; ++i) {  // keep-alive over TLS
    auto req = make_request(http::verb::post, "/secure", "over tls " + std::to_string(i));
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    wire_response r;
    http::read(stream, buffer, r);
    CHECK(r.result_int() == 200);
    CHECK(r.body() == "over tls " + std::to_string(i));
  }
  CHECK(s.server.stats().connections_accepted == 1);

  SECTION("a plain HTTP client gets nothing useful") {
    test_connection c(s.endpoint.port);
    c.send(make_request(http::verb::get, "/"));
    CHECK_THROWS(c.read(2s));
  }
}

TEST_CASE("TLS start-up fails clearly on missing or mismatched files", "[net][server][tls]") {
  ruxx_test::temp_dir dir;
  const auto [cert, key] = make_self_signed(dir);
  server_options o = test_options();

  o.tls = synccore::net::tls_files{(dir / "missing.pem").string(), key};
  http_server missing(o, echo_handler);
  try {
    missing.start();
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("missing.pem") != std::string::npos);
  }

  o.tls = synccore::net::tls_files{key, key};  // a key is not a certificate
  http_server not_cert(o, echo_handler);
  CHECK_THROWS_AS(not_cert.start(), std::runtime_error);

  ruxx_test::temp_dir other;
  const auto [other_cert, other_key] = make_self_signed(other);
  o.tls = synccore::net::tls_files{cert, other_key};
  http_server mismatch(o, echo_handler);
  try {
    mismatch.start();
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("does not match") != std::string::npos);
  }
}

namespace {

// A handler whose body is `pieces` pieces of `piece_size` bytes ('a', 'b', ... per piece),
// handed over through more_body; `alive` counts the sources not yet destroyed.
struct streaming_handler {
  std::size_t pieces = 0;
  std::size_t piece_size = 0;
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  std::string expected() const {
    std::string out;
    for (std::size_t i = 0; i < pieces; ++i) out.append(piece_size, static_cast<char>('a' + i % 26));
    return out;
  }

  http_response operator()(const http_request&) const {
    http_response resp;
    resp.headers.set("Content-Type", "text/plain");
    resp.body.assign(piece_size, 'a');
    auto next = std::make_shared<std::size_t>(1);
    resp.more_body = [next, n = pieces, size = piece_size, token = alive](std::string& out) {
      out.append(size, static_cast<char>('a' + *next % 26));
      return ++*next < n;
    };
    return resp;
  }
};

}  // namespace

TEST_CASE("a long body_source is streamed chunked and the connection is kept",
          "[net][server][stream]") {
  streaming_handler h{48, 64 * 1024};  // 3 MiB, past the first megabyte sent whole
  running_server s(test_options(), h);
  const long holders = h.alive.use_count();  // this test and the server's copy of the handler
  test_connection c(s.endpoint.port);

  c.send(make_request(http::verb::get, "/long"));
  wire_response r = c.read();
  CHECK(r.result_int() == 200);
  CHECK(r.chunked());
  CHECK(r.find(http::field::content_length) == r.end());
  CHECK(r.body() == h.expected());

  // The source was released once the body was out, and the connection serves the next one.
  CHECK(h.alive.use_count() == holders);
  c.send(make_request(http::verb::get, "/again"));
  CHECK(c.read().body() == h.expected());
}

TEST_CASE("a body_source that ends within the first megabyte goes out with Content-Length",
          "[net][server][stream]") {
  streaming_handler h{5, 1000};
  running_server s(test_options(), h);
  test_connection c(s.endpoint.port);
  c.send(make_request(http::verb::get, "/short"));
  wire_response r = c.read();
  CHECK_FALSE(r.chunked());
  CHECK(r[http::field::content_length] == "5000");
  CHECK(r.body() == h.expected());
}

TEST_CASE("a streamed body is gzip-compressed as one member when the client accepts gzip",
          "[net][server][stream][gzip]") {
  streaming_handler h{40, 64 * 1024};
  running_server s(test_options(), h);
  test_connection c(s.endpoint.port);
  auto req = make_request(http::verb::get, "/long");
  req.set(http::field::accept_encoding, "gzip");
  c.send(req);
  wire_response r = c.read();
  CHECK(r.chunked());
  CHECK(r[http::field::content_encoding] == "gzip");
  CHECK(r[http::field::vary] == "Accept-Encoding");
  CHECK(r.body().size() < h.expected().size() / 10);
  auto plain = synccore::net::gzip_decompress(r.body(), 8 << 20);
  REQUIRE(plain.has_value());
  CHECK(*plain == h.expected());
}

TEST_CASE("a streamed body to an HTTP/1.0 client ends with the connection",
          "[net][server][stream]") {
  streaming_handler h{32, 64 * 1024};
  running_server s(test_options(), h);
  test_connection c(s.endpoint.port);
  auto req = make_request(http::verb::get, "/long");
  req.version(10);
  c.send(req);
  wire_response r = c.read();
  CHECK_FALSE(r.chunked());
  CHECK(r.find(http::field::content_length) == r.end());
  CHECK_FALSE(r.keep_alive());
  // With neither length nor chunks, the read completed at the server's close: the body is whole.
  CHECK(r.body() == h.expected());
}

TEST_CASE("HEAD of a long body_source answers its length and no body", "[net][server][stream]") {
  streaming_handler h{24, 64 * 1024};
  running_server s(test_options(), h);
  test_connection c(s.endpoint.port);
  c.send(make_request(http::verb::head, "/long"));
  wire_response r = c.read(5000ms, true);
  CHECK(r.result_int() == 200);
  CHECK(r[http::field::content_length] == std::to_string(24 * 64 * 1024));
  CHECK(r.body().empty());
  c.send(make_request(http::verb::get, "/after"));  // nothing of a body was left on the wire
  CHECK(c.read().body() == h.expected());
}

TEST_CASE("a body_source that fails is a 500 before the header and a cut connection after",
          "[net][server][stream]") {
  std::vector<std::string> logs;
  std::mutex log_mutex;
  server_options o = test_options();
  o.log = [&](synccore::net::log_level, std::string_view m) {
    const std::lock_guard lock(log_mutex);
    logs.emplace_back(m);
  };
  // Fails on the piece numbered `fail_at` (each piece 256 KiB; four fit the first megabyte).
  running_server s(o, [](const http_request& r) {
    const std::size_t fail_at = r.path() == "/early" ? 2 : 12;
    http_response resp;
    resp.body.assign(256 * 1024, 'x');
    auto next = std::make_shared<std::size_t>(1);
    resp.more_body = [next, fail_at](std::string& out) {
      if (*next == fail_at) throw std::runtime_error("disk went away");
      out.assign(256 * 1024, 'x');
      return ++*next < 100;
    };
    return resp;
  });

  test_connection early(s.endpoint.port);
  early.send(make_request(http::verb::get, "/early"));
  wire_response r = early.read();
  CHECK(r.result_int() == 500);
  CHECK(parse_json(r.body()).at("error") == "Server Error");

  // After the header: the client must not receive something that parses as a whole answer.
  test_connection late(s.endpoint.port);
  late.send(make_request(http::verb::get, "/late"));
  CHECK_THROWS_WITH(late.read(), Catch::Contains("read failed"));
  {
    const std::lock_guard lock(log_mutex);
    const bool logged = std::any_of(logs.begin(), logs.end(), [](const std::string& line) {
      return line.find("connection cut: disk went away") != std::string::npos;
    });
    CHECK(logged);
  }

  test_connection next(s.endpoint.port);  // the server keeps serving
  next.send(make_request(http::verb::get, "/early"));
  CHECK(next.read().result_int() == 500);
}

TEST_CASE("stop() cuts a stream whose client stopped reading, within shutdown_timeout",
          "[net][server][stream]") {
  server_options o = test_options();
  o.shutdown_timeout = 500ms;
  auto alive = std::make_shared<int>(0);
  running_server s(o, [alive](const http_request&) {
    http_response resp;
    resp.body.assign(1 << 20, 'y');
    resp.more_body = [alive](std::string& out) {  // endless: only a cut ends it
      out.assign(256 * 1024, 'y');
      return true;
    };
    return resp;
  });
  const long holders = alive.use_count();
  test_connection c(s.endpoint.port);
  c.send(make_request(http::verb::get, "/endless"));
  std::this_thread::sleep_for(300ms);  // the socket buffers fill; the server waits to write
  const auto before = std::chrono::steady_clock::now();
  s.server.stop();
  CHECK(std::chrono::steady_clock::now() - before < 3s);
  CHECK(alive.use_count() == holders);  // the session and its source are gone
  CHECK(c.closed_within(2s));
}

TEST_CASE("a streamed body goes out chunked over TLS, and the connection is reused",
          "[net][server][stream][tls]") {
  ruxx_test::temp_dir dir;
  const auto [cert, key] = make_self_signed(dir);
  server_options o = test_options();
  o.tls = synccore::net::tls_files{cert, key};
  streaming_handler h{40, 64 * 1024};
  running_server s(o, h);

  tls_client client(s.endpoint.port, cert);
  auto& stream = client.stream;
  for (const char* coding : {"identity", "gzip"}) {
    auto req = make_request(http::verb::get, "/long");
    req.set(http::field::accept_encoding, coding);
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    http::read(stream, buffer, parser);
    const wire_response r = parser.release();
    CHECK(r.chunked());
    const bool gzip = r[http::field::content_encoding] == "gzip";
    CHECK(gzip == (std::string(coding) == "gzip"));
    const std::string body =
        gzip ? synccore::net::gzip_decompress(r.body(), 16 << 20).value() : r.body();
    CHECK(body == h.expected());
  }
  CHECK(s.server.stats().connections_accepted == 1);
}
