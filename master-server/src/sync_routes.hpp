// The master's HTTP API (DESIGN.md sections 3 and 4, docs/PROTOCOL.md): an endpoint table that
// answers 404 for an unknown path and 405 for a wrong method, checks the API key in constant
// time, and serves POST /api/sync/push, GET /api/sync/pull (version 1 by `since`, version 2 by
// `cursor`), GET /api/sync/status and the unauthenticated GET /up. Thread-safe: each call
// borrows its own database connection.
#pragma once

#include "connection_pool.hpp"

#include <synccore/net/http_message.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace synccore::tables {
struct table_descriptor;
}

namespace master {

struct route_options {
  std::string api_key;
  // Largest page a version 2 pull may ask for, and the page size when it asks for none.
  std::size_t max_page = 10'000;
  std::size_t default_page = 1'000;
};

class sync_routes {
 public:
  // Logs one line per sync request (table, direction, rows, conflicts, duration) through
  // synccore::log.
  sync_routes(connection_pool& pool, const synccore::time::app_zone& zone, route_options options);

  // Answers one request. Never throws for bad input (4xx JSON); infrastructure faults throw
  // and become a 500 without internals at the server.
  synccore::net::http_response handle(const synccore::net::http_request& request);

 private:
  synccore::net::http_response push(const synccore::net::http_request& request);
  synccore::net::http_response pull(const synccore::net::http_request& request);
  // Version 1 (by `since`): the whole table or the rows changed since, as one JSON answer whose
  // rows after the first chunk are streamed.
  synccore::net::http_response pull_v1(const synccore::tables::table_descriptor& table,
                                       std::optional<std::string> since_db,
                                       boost::json::value since_echo, connection_pool::lease conn,
                                       std::chrono::steady_clock::time_point start);
  synccore::net::http_response status(const synccore::net::http_request& request);
  synccore::net::http_response up();
  bool authorized(const synccore::net::http_request& request) const;

  connection_pool& pool_;
  const synccore::time::app_zone& zone_;
  route_options options_;
};

// Compares two secrets in time that depends only on their lengths' maximum, not on where they
// first differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace master
