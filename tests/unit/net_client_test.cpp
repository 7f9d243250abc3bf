// http_client against the project's own http_server and against raw TCP servers that misbehave:
// round trips, connection reuse, gzip, retries and their bounds, error classification, TLS.
#include <catch2/catch.hpp>

#include <synccore/net/gzip.hpp>
#include <synccore/net/http_client.hpp>
#include <synccore/net/http_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using namespace synccore::net;

namespace {

// Records the client's backoff sleeps instead of sleeping.
struct sleep_recorder {
  std::vector<std::chrono::milliseconds> delays;
  std::function<void(std::chrono::milliseconds)> fn() {
    return [this](std::chrono::milliseconds d) { delays.push_back(d); };
  }
};

client_options client_for(const std::string& url, sleep_recorder& sleeps) {
  client_options o;
  o.base_url = url;
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = 10ms;
  o.retry.multiplier = 2.0;
  o.retry.jitter = 0.0;
  o.sleep = sleeps.fn();
  return o;
}

server_options server_opts() {
  server_options o;
  o.header_timeout = 5s;
  o.idle_timeout = 5s;
  return o;
}

std::string http_url(const listen_endpoint& ep) { return "http://" + ep.to_string(); }

// A TCP server that runs `behaviour` on each accepted socket, one connection at a time, on its
// own thread. Counts the connections.
class raw_server {
 public:
  explicit raw_server(std::function<void(tcp::socket&)> behaviour)
      : behaviour_(std::move(behaviour)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~raw_server() {
    asio::post(ioc_, [this] { acceptor_.close(); });
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections_;
      try {
        behaviour_(socket);
      } catch (const std::exception&) {  // the client went away: fine for these tests
      }
      boost::system::error_code ignored;
      socket.close(ignored);
      accept();
    });
  }

  std::function<void(tcp::socket&)> behaviour_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
};

void read_request_head(tcp::socket& socket) {
  std::string head;
  asio::read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n");
}

void read_until_closed(tcp::socket& socket) {
  char sink[1024];
  boost::system::error_code ec;
  while (!ec) socket.read_some(asio::buffer(sink), ec);
}

std::uint16_t closed_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed when `a` goes away
}

std::pair<std::string, std::string> make_self_signed(const ruxx_test::temp_dir& dir,
                                                     const std::string& san) {
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=ruxx-test -addext subjectAltName=" +
      san + " -keyout '" + key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  return {cert, key};
}

http_response echo(const http_request& r) {
  http_response resp;
  resp.headers.set("X-Method", r.method);
  resp.headers.set("X-Target", r.target);
  resp.headers.set("X-Key", std::string(r.headers.get("X-Sync-API-Key").value_or("")));
  resp.headers.set("X-Request-Encoding",
                   std::string(r.headers.get("Content-Encoding").value_or("")));
  resp.headers.set("X-Accept-Encoding", std::string(r.headers.get("Accept-Encoding").value_or("")));
  resp.body = r.body;
  return resp;
}

}  // namespace

TEST_CASE("client GET and POST round trip with headers and a base path", "[net][client]") {
  http_server server(server_opts(), echo);
  const auto ep = server.start();
  sleep_recorder sleeps;
  client_options o = client_for(http_url(ep) + "/base/", sleeps);
  o.headers.set("X-Sync-API-Key", "peerkey");
  http_client client(o);
  CHECK(client.url().base_path == "/base");

  client_request get;
  get.target = "/api/sync/pull?table=users";
  const client_result r = client.perform(get);
  REQUIRE(r.has_value());
  CHECK(r->status == 200);
  CHECK(r->headers.get("X-Method") == "GET");
  CHECK(r->headers.get("X-Target") == "/base/api/sync/pull?table=users");
  CHECK(r->headers.get("X-Key") == "peerkey");
  CHECK(r->headers.get("X-Accept-Encoding") == "gzip");

  client_request post;
  post.method = "POST";
  post.target = "/api/sync/push";
  post.headers.set("Content-Type", "application/json");
  post.headers.set("X-Sync-API-Key", "override");
  post.body = R"({"table":"users","data":[]})";
  const client_result p = client.perform(post);
  REQUIRE(p.has_value());
  CHECK(p->headers.get("X-Method") == "POST");
  CHECK(p->headers.get("X-Key") == "override");
  CHECK(p->body == post.body);
  CHECK(sleeps.delays.empty());
}

TEST_CASE("client reuses one connection for consecutive requests", "[net][client]") {
  http_server server(server_opts(), echo);
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));
  for (int i = 0; i < 5; ++i) {
    client_request r;
    r.method = "POST";
    r.body = "n" + std::to_string(i);
    const auto result = client.perform(r);
    REQUIRE(result.has_value());
    CHECK(result->body == r.body);
  }
  CHECK(server.stats().connections_accepted == 1);

  client.close();
  REQUIRE(client.perform(client_request{}).has_value());
  CHECK(server.stats().connections_accepted == 2);
}

TEST_CASE("client reconnects transparently when the server closed an idle connection",
          "[net][client]") {
  server_options so = server_opts();
  so.idle_timeout = 150ms;
  http_server server(so, echo);
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));
  REQUIRE(client.perform(client_request{}).has_value());
  std::this_thread::sleep_for(500ms);  // the server drops the keep-alive connection
  const auto second = client.perform(client_request{});
  REQUIRE(second.has_value());
  CHECK(sleeps.delays.empty());  // not a retry
  CHECK(server.stats().connections_accepted == 2);
}

TEST_CASE("client decompresses gzip responses and can gzip request bodies", "[net][client][gzip]") {
  const std::string big(20000, 'g');
  http_server server(server_opts(), [&](const http_request& r) {
    http_response resp = echo(r);
    if (r.path() == "/big") resp.body = big;
    return resp;
  });
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));

  client_request get;
  get.target = "/big";
  const auto r = client.perform(get);
  REQUIRE(r.has_value());
  CHECK(r->headers.get("Content-Encoding") == "gzip");  // it did travel compressed
  CHECK(r->body == big);

  client_request post;
  post.method = "POST";
  post.target = "/echo";
  post.body = std::string(5000, 'p');
  post.gzip_body = true;
  const auto p = client.perform(post);
  REQUIRE(p.has_value());
  CHECK(p->headers.get("X-Request-Encoding") == "gzip");
  CHECK(p->body == post.body);  // the server decompressed it before the handler
}

TEST_CASE("connection refused is unreachable after the bounded retries", "[net][client]") {
  sleep_recorder sleeps;
  http_client client(client_for("http://127.0.0.1:" + std::to_string(closed_port()), sleeps));
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::unreachable);
  CHECK(r.error().attempts == 3);
  CHECK(r.error().message.find("cannot connect to 127.0.0.1:") != std::string::npos);
  CHECK(sleeps.delays == std::vector<std::chrono::milliseconds>{10ms, 20ms});
}

TEST_CASE("an unresolvable host is unreachable", "[net][client]") {
  sleep_recorder sleeps;
  client_options o = client_for("http://no-such-host.invalid", sleeps);
  o.retry.max_attempts = 2;
  http_client client(o);
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::unreachable);
  CHECK(r.error().message.find("resolv") != std::string::npos);
  CHECK(r.error().attempts == 2);
}

TEST_CASE("max_attempts of 1 disables retries", "[net][client]") {
  sleep_recorder sleeps;
  client_options o = client_for("http://127.0.0.1:" + std::to_string(closed_port()), sleeps);
  o.retry.max_attempts = 1;
  http_client client(o);
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().attempts == 1);
  CHECK(sleeps.delays.empty());
}

TEST_CASE("a connection cut mid-body is unreachable and retried", "[net][client]") {
  raw_server cutter([](tcp::socket& s) {
    read_request_head(s);
    asio::write(
        s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")));
  });
  sleep_recorder sleeps;
  http_client client(client_for("http://127.0.0.1:" + std::to_string(cutter.port()), sleeps));
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::unreachable);
  CHECK(r.error().message.find("cut") != std::string::npos);
  CHECK(r.error().attempts == 3);
  CHECK(cutter.connections() == 3);
  CHECK(sleeps.delays.size() == 2);
}

TEST_CASE("a non-idempotent request is not retried once sent", "[net][client]") {
  raw_server cutter([](tcp::socket& s) {
    read_request_head(s);
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx")));
  });
  sleep_recorder sleeps;
  http_client client(client_for("http://127.0.0.1:" + std::to_string(cutter.port()), sleeps));
  client_request r;
  r.method = "POST";
  r.idempotent = false;
  const auto result = client.perform(r);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == client_error_kind::unreachable);
  CHECK(result.error().attempts == 1);
  CHECK(cutter.connections() == 1);
}

TEST_CASE("a server that never answers hits the read deadline", "[net][client]") {
  raw_server silent([](tcp::socket& s) { read_until_closed(s); });
  sleep_recorder sleeps;
  client_options o = client_for("http://127.0.0.1:" + std::to_string(silent.port()), sleeps);
  o.read_timeout = 300ms;
  o.retry.max_attempts = 2;
  http_client client(o);
  const auto start = std::chrono::steady_clock::now();
  const auto r = client.perform(client_request{});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::unreachable);
  CHECK(r.error().message.find("no response") != std::string::npos);
  CHECK(r.error().attempts == 2);
  CHECK(elapsed >= 550ms);
  CHECK(elapsed < 3s);
}

TEST_CASE("a response read until EOF (PHP master with Connection: close) succeeds",
          "[net][client]") {
  raw_server php([](tcp::socket& s) {
    read_request_head(s);
    asio::write(s, asio::buffer(std::string(
                       "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n"
                       "\r\n{\"success\":true,\"data\":[]}")));
  });
  sleep_recorder sleeps;
  http_client client(client_for("http://127.0.0.1:" + std::to_string(php.port()), sleeps));
  for (int i = 0; i < 2; ++i) {
    const auto r = client.perform(client_request{});
    REQUIRE(r.has_value());
    CHECK(r->body == R"({"success":true,"data":[]})");
  }
  CHECK(php.connections() == 2);  // closed after each answer, reopened without a retry
  CHECK(sleeps.delays.empty());
}

TEST_CASE("5xx is retried and a later success returned", "[net][client]") {
  std::atomic<int> calls{0};
  http_server server(server_opts(), [&](const http_request&) {
    if (++calls == 1) return json_error(500, "Server Error", "Internal server error");
    return json_response(200, R"({"success":true})");
  });
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));
  const auto r = client.perform(client_request{});
  REQUIRE(r.has_value());
  CHECK(r->body == R"({"success":true})");
  CHECK(calls == 2);
  CHECK(sleeps.delays == std::vector<std::chrono::milliseconds>{10ms});
}

TEST_CASE("5xx on every attempt returns the last status and body", "[net][client]") {
  http_server server(server_opts(), [](const http_request&) {
    return json_error(503, "Service Unavailable", "busy");
  });
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::http_status);
  CHECK(r.error().status == 503);
  CHECK(r.error().body == R"({"error":"Service Unavailable","message":"busy"})");
  CHECK(r.error().attempts == 3);
}

TEST_CASE("4xx is not retried", "[net][client]") {
  std::atomic<int> calls{0};
  http_server server(server_opts(), [&](const http_request&) {
    ++calls;
    return json_error(401, "Unauthorized", "Invalid or missing API key");
  });
  const auto ep = server.start();
  sleep_recorder sleeps;
  http_client client(client_for(http_url(ep), sleeps));
  const auto r = client.perform(client_request{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == client_error_kind::http_status);
  CHECK(r.error().status == 401);
  CHECK(r.error().body == R"({"error":"Unauthorized","message":"Invalid or missing API key"})");
  CHECK(r.error().attempts == 1);
  CHECK(calls == 1);
  CHECK(sleeps.delays.empty());
}

TEST_CASE("429 is retried after the server's Retry-After", "[net][client]") {
  std::atomic<int> calls{0};
  http_server server(server_opts(), [&](const http_request&) {
    if (++calls == 1) {
      http_response busy = json_error(429, "Too Many Requests", "slow down");
      busy.headers.set("Retry-After", "2");
      return busy;
    }
    return json_response(200, "{}");
  });
  const auto ep = server.start();
  sleep_recorder sleeps;
  client_options o = client_for(http_url(ep), sleeps);
  o.retry.max_backoff = 60s;
  http_client client(o);
  REQUIRE(client.perform(client_request{}).has_value());
  CHECK(sleeps.delays == std::vector<std::chrono::milliseconds>{2000ms});
}

TEST_CASE("malformed and oversized responses are protocol errors and not retried",
          "[net][client]") {
  SECTION("not HTTP") {
    raw_server junk([](tcp::socket& s) {
      read_request_head(s);
      asio::write(s, asio::buffer(std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n")));
    });
    sleep_recorder sleeps;
    http_client client(client_for("http://127.0.0.1:" + std::to_string(junk.port()), sleeps));
    const auto r = client.perform(client_request{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == client_error_kind::protocol);
    CHECK(r.error().attempts == 1);
  }
  SECTION("bad gzip") {
    raw_server junk([](tcp::socket& s) {
      read_request_head(s);
      asio::write(s, asio::buffer(std::string(
                         "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 7\r\n\r\n"
                         "notgzip")));
    });
    sleep_recorder sleeps;
    http_client client(client_for("http://127.0.0.1:" + std::to_string(junk.port()), sleeps));
    const auto r = client.perform(client_request{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == client_error_kind::protocol);
  }
  SECTION("too large, also after decompression") {
    http_server server(server_opts(), [](const http_request& r) {
      http_response resp;
      resp.body = std::string(r.path() == "/huge" ? 50000 : 100, 'h');
      return resp;
    });
    const auto ep = server.start();
    sleep_recorder sleeps;
    client_options o = client_for(http_url(ep), sleeps);
    o.max_response_size = 10000;
    http_client client(o);
    client_request huge;
    huge.target = "/huge";
    const auto r = client.perform(huge);  // gzip makes it small on the wire
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == client_error_kind::protocol);
    CHECK(client.perform(client_request{}).has_value());
  }
}

TEST_CASE("invalid client configuration throws", "[net][client]") {
  CHECK_THROWS_AS(http_client(client_options{}), std::invalid_argument);
  client_options o;
  o.base_url = "ftp://master";
  CHECK_THROWS_AS(http_client(o), std::invalid_argument);
  o.base_url = "https://master";
  o.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(http_client(o), std::runtime_error);
}

TEST_CASE(
    "client verifies TLS certificates against the system store and --ca-file and the host name",
    "[net][client][tls]") {
  ruxx_test::temp_dir dir;
  const auto [cert, key] = make_self_signed(dir, "DNS:localhost,IP:127.0.0.1");
  server_options so = server_opts();
  so.tls = tls_files{cert, key};
  http_server server(so, echo);
  const auto ep = server.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(ep.port);
  sleep_recorder sleeps;

  SECTION("a self-signed certificate is refused without the CA file, not retried") {
    http_client client(client_for(url, sleeps));
    const auto r = client.perform(client_request{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == client_error_kind::tls);
    CHECK(r.error().attempts == 1);
    CHECK(r.error().message.find("self") != std::string::npos);  // "self-signed certificate"
  }
  SECTION("accepted with --ca-file, over one kept-alive connection, by IP and by name") {
    client_options o = client_for(url, sleeps);
    o.ca_file = cert;
    http_client client(o);
    for (int i = 0; i < 3; ++i) {
      client_request r;
      r.method = "POST";
      r.body = "secret " + std::to_string(i);
      const auto result = client.perform(r);
      REQUIRE(result.has_value());
      CHECK(result->body == r.body);
    }
    CHECK(server.stats().connections_accepted == 1);

    o.base_url = "https://localhost:" + std::to_string(ep.port);
    http_client by_name(o);
    const auto named = by_name.perform(client_request{});
    if (!named.has_value()) {
      // localhost may resolve to ::1 first, where nothing listens: that is unreachable, never tls
      CHECK(named.error().kind == client_error_kind::unreachable);
    }
  }
  SECTION("a TLS connection closed by the server while idle is reopened without a retry") {
    server_options short_idle = server_opts();
    short_idle.tls = tls_files{cert, key};
    short_idle.idle_timeout = 150ms;
    http_server idle_server(short_idle, echo);
    const auto idle_ep = idle_server.start();
    client_options o = client_for("https://127.0.0.1:" + std::to_string(idle_ep.port), sleeps);
    o.ca_file = cert;
    http_client client(o);
    REQUIRE(client.perform(client_request{}).has_value());
    std::this_thread::sleep_for(500ms);
    const auto again = client.perform(client_request{});
    REQUIRE(again.has_value());
    CHECK(sleeps.delays.empty());
    CHECK(idle_server.stats().connections_accepted == 2);
  }
  SECTION("a trusted certificate for another host name is refused") {
    ruxx_test::temp_dir other;
    const auto [other_cert, other_key] = make_self_signed(other, "DNS:master.example");
    server_options wrong = server_opts();
    wrong.tls = tls_files{other_cert, other_key};
    http_server wrong_server(wrong, echo);
    const auto wrong_ep = wrong_server.start();
    client_options o = client_for("https://127.0.0.1:" + std::to_string(wrong_ep.port), sleeps);
    o.ca_file = other_cert;
    http_client client(o);
    const auto r = client.perform(client_request{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == client_error_kind::tls);
  }
  SECTION("a plain http:// client against the TLS port fails without hanging") {
    client_options o = client_for("http://127.0.0.1:" + std::to_string(ep.port), sleeps);
    o.retry.max_attempts = 1;
    http_client client(o);
    const auto r = client.perform(client_request{});
    REQUIRE_FALSE(r.has_value());
  }
}
