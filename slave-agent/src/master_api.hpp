// The agent's view of its master: the few calls the jobs make (protocol detection, push, pull,
// status), over synccore::net::http_client with the API key and node id on every request, and
// every failure turned into a run_failure with the right exit code (3 unreachable, 4 rejected).
#pragma once

#include "exit_codes.hpp"

#include <synccore/net/http_client.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace slave {

enum class protocol_version { v1, v2 };

struct master_options {
  std::string url;
  std::string api_key;
  std::string node_id;
  std::optional<std::string> ca_file;
  synccore::net::retry_policy retry;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
};

class master_api {
 public:
  // Throws run_failure(exit_usage) for an invalid URL or CA file.
  explicit master_api(const master_options& options);

  // Asks GET /api/sync/status: a version 2 master answers with "protocol":2; the PHP master
  // has no such route (404). Cached after the first call.
  protocol_version protocol();
  // The master's status answer (version 2 only).
  boost::json::object status();

  // POST /api/sync/push with `body`; returns the parsed 200 answer.
  boost::json::object push(const std::string& body);
  // GET /api/sync/pull?`query`; returns the parsed 200 answer.
  boost::json::object pull(const std::string& query);

  // The master's clock as its last 200 answer stated it (the HTTP `Date` header, whole
  // seconds), or nullopt when that answer had none or an unreadable one.
  std::optional<std::chrono::sys_seconds> last_answer_date() const { return last_date_; }

 private:
  boost::json::object call(synccore::net::client_request request, std::string_view what);
  synccore::net::http_client client_;
  std::string node_id_;
  std::optional<protocol_version> protocol_;
  std::optional<std::chrono::sys_seconds> last_date_;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view value);

}  // namespace slave
