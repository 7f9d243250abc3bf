#include "master_api.hpp"

#include <synccore/log/logger.hpp>

#include <boost/json/parse.hpp>

#include <date/date.h>

#include <sstream>

namespace slave {

namespace json = boost::json;
using synccore::net::client_error_kind;

namespace {

synccore::net::client_options client_options_for(const master_options& o) {
  synccore::net::client_options c;
  c.base_url = o.url;
  c.ca_file = o.ca_file;
  c.retry = o.retry;
  c.connect_timeout = o.connect_timeout;
  c.read_timeout = o.read_timeout;
  c.headers.set("X-Sync-API-Key", o.api_key);
  c.headers.set("Accept", "application/json");
  if (!o.node_id.empty()) c.headers.set("X-Sync-Node-Id", o.node_id);
  c.user_agent = "ruxx-sync-slave-agent";
  c.log = [](synccore::net::log_level, std::string_view message) {
    synccore::log::log_warning(message);
  };
  return c;
}

synccore::net::http_client make_client(const master_options& o) {
  try {
    return synccore::net::http_client(client_options_for(o));
  } catch (const std::exception& e) {
    throw run_failure(exit_usage, std::string("master URL: ") + e.what());
  }
}

// An HTTP date in the IMF-fixdate form every server sends ("Tue, 24 Nov 2026 14:30:01 GMT").
std::optional<std::chrono::sys_seconds> parse_http_date(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  std::istringstream in{std::string(*text)};
  date::sys_seconds out{};
  in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", out);
  if (in.fail()) return std::nullopt;
  return out;
}

}  // namespace

std::string url_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

master_api::master_api(const master_options& options)
    : client_(make_client(options)), node_id_(options.node_id) {}

json::object master_api::call(synccore::net::client_request request, std::string_view what) {
  auto result = client_.perform(request);
  if (!result) {
    const auto& e = result.error();
    if (e.kind == client_error_kind::http_status) {
      std::string detail = e.body.substr(0, 300);
      const exit_code code = e.status >= 500 ? exit_unreachable : exit_rejected;
      throw run_failure(code,
                        std::string(what) + ": the master answered " +
                            std::to_string(e.status) + " " + detail,
                        e.status, e.body);
    }
    if (e.kind == client_error_kind::tls) {
      throw run_failure(exit_unreachable, std::string(what) + ": TLS failure: " + e.message);
    }
    throw run_failure(exit_unreachable, std::string(what) + ": " + e.message);
  }
  last_date_ = parse_http_date(result->headers.get("Date"));
  boost::system::error_code ec;
  auto parsed = json::parse(result->body, ec);
  if (ec || !parsed.is_object()) {
    throw run_failure(exit_unreachable,
                      std::string(what) + ": the master's answer is not a JSON object");
  }
  return std::move(parsed.as_object());
}

protocol_version master_api::protocol() {
  if (protocol_) return *protocol_;
  synccore::net::client_request request;
  // Without the row counts, which cost the master a read of every table.
  request.target = "/api/sync/status?counts=0";
  auto result = client_.perform(request);
  if (!result && result.error().kind == client_error_kind::http_status &&
      (result.error().status == 404 || result.error().status == 405)) {
    protocol_ = protocol_version::v1;
    synccore::log::log_info("The master speaks protocol version 1 (PHP module)");
    return *protocol_;
  }
  if (!result) {
    const auto& e = result.error();
    if (e.kind == client_error_kind::http_status && e.status < 500) {
      throw run_failure(exit_rejected,
                        "the master refused the request (" + std::to_string(e.status) + ")");
    }
    throw run_failure(exit_unreachable, e.message);
  }
  boost::system::error_code ec;
  auto parsed = json::parse(result->body, ec);
  const bool v2 = !ec && parsed.is_object() && parsed.as_object().contains("protocol");
  protocol_ = v2 ? protocol_version::v2 : protocol_version::v1;
  return *protocol_;
}

json::object master_api::status() {
  synccore::net::client_request request;
  request.target = "/api/sync/status";
  return call(request, "status");
}

json::object master_api::push(const std::string& body) {
  synccore::net::client_request request;
  request.method = "POST";
  request.target = "/api/sync/push";
  request.headers.set("Content-Type", "application/json");
  request.body = body;
  // Version 2 batches carry a batch id and are answered from the master's record when
  // retried; version 1 pushes are not idempotent at the PHP master.
  request.idempotent = protocol() == protocol_version::v2;
  request.gzip_body = protocol() == protocol_version::v2 && body.size() > 4096;
  return call(request, "push");
}

json::object master_api::pull(const std::string& query) {
  synccore::net::client_request request;
  request.target = "/api/sync/pull?" + query;
  return call(request, "pull");
}

}  // namespace slave
