#include "sync_routes.hpp"

#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/sync/pull_reader.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <charconv>
#include <set>

namespace master {

namespace json = boost::json;
using synccore::net::http_request;
using synccore::net::http_response;
using synccore::net::json_error;
using synccore::net::json_response;

namespace {

using error_map = std::vector<std::pair<std::string, std::string>>;

http_response validation_failed(const error_map& errors) {
  json::object fields;
  for (const auto& [field, message] : errors) {
    auto& list = fields[field];
    if (!list.is_array()) list = json::array();
    list.as_array().push_back(json::string(message));
  }
  return json_response(422, json::serialize(json::object{{"error", "Validation failed"},
                                                         {"errors", std::move(fields)}}));
}

std::vector<std::string_view> omitted_columns(const synccore::tables::table_descriptor& t, bool v1) {
  std::vector<std::string_view> out(t.never_sent_columns.begin(), t.never_sent_columns.end());
  if (v1) out.insert(out.end(), t.hidden_from_v1_columns.begin(), t.hidden_from_v1_columns.end());
  return out;
}

std::string node_of(const http_request& request, const json::object* body) {
  if (body) {
    if (const auto* n = body->if_contains("node_id"); n && n->is_string()) {
      return std::string(n->get_string());
    }
  }
  if (auto h = request.headers.get("X-Sync-Node-Id")) return std::string(*h);
  if (auto q = request.query_param("node_id")) return *q;
  return {};
}

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

long long elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

sync_routes::sync_routes(connection_pool& pool, const synccore::time::app_zone& zone,
                         route_options options)
    : pool_(pool), zone_(zone), options_(std::move(options)) {}

bool sync_routes::authorized(const http_request& request) const {
  const auto key = request.headers.get("X-Sync-API-Key");
  return key && constant_time_equal(*key, options_.api_key);
}

http_response sync_routes::handle(const http_request& request) {
  struct route {
    std::string_view path;
    std::string_view method;
    bool authenticated;
    http_response (sync_routes::*serve)(const http_request&);
  };
  static constexpr route routes[] = {
      {"/api/sync/push", "POST", true, &sync_routes::push},
      {"/api/sync/pull", "GET", true, &sync_routes::pull},
      {"/api/sync/status", "GET", true, nullptr},
      {"/up", "GET", false, nullptr},
  };
  const auto path = request.path();
  for (const auto& r : routes) {
    if (r.path != path) continue;
    const bool head_as_get = r.method == "GET" && request.method == "HEAD";
    if (request.method != r.method && !head_as_get) {
      auto res = json_error(405, "Method Not Allowed",
                            "The " + request.method + " method is not supported for this route. "
                            "Supported methods: " + std::string(r.method) + ".");
      res.headers.set("Allow", std::string(r.method));
      return res;
    }
    if (r.authenticated && !authorized(request)) {
      return json_error(401, "Unauthorized", "Invalid or missing API key");
    }
    if (r.path == "/up") return up();
    if (r.path == "/api/sync/status") return status(request);
    return (this->*r.serve)(request);
  }
  return json_error(404, "Not Found", "The route " + std::string(path) + " could not be found.");
}

http_response sync_routes::up() {
  try {
    auto conn = pool_.acquire();
    auto st = conn->prepare("SELECT count(*) FROM sqlite_schema");
    st.step();
    return json_response(200, R"({"status":"up"})");
  } catch (const std::exception&) {
    return json_error(503, "Service Unavailable", "The database does not answer");
  }
}

http_response sync_routes::push(const http_request& request) {
  const auto start = std::chrono::steady_clock::now();
  // The parsed body lives for this request only: a monotonic arena allocates its many small
  // strings and objects in large blocks and frees them all at once (measured: parsing and
  // destroying a 10k-row body was a sixth of a push's instructions with the default resource).
  json::monotonic_resource arena;
  json::value parsed(&arena);  // same resource as the parse result: the assignment only moves
  error_map errors;
  {
    boost::system::error_code ec;
    parsed = json::parse(request.body, ec, &arena);
    if (ec || !parsed.is_object()) {
      // As the PHP master: an unreadable body means the fields are missing.
      return validation_failed({{"table", "The table field is required."},
                                {"data", "The data field is required."},
                                {"body", ec ? "The body is not valid JSON (" + ec.message() + ")."
                                            : "The body must be a JSON object."}});
    }
  }
  const auto& body = parsed.get_object();
  const synccore::tables::table_descriptor* table = nullptr;
  const auto* table_field = body.if_contains("table");
  if (!table_field || table_field->is_null() ||
      (table_field->is_string() && table_field->get_string().empty())) {
    errors.emplace_back("table", "The table field is required.");
  } else if (!table_field->is_string() ||
             !(table = synccore::tables::find_table(table_field->get_string()))) {
    errors.emplace_back("table", "The selected table is invalid.");
  }
  const auto* data = body.if_contains("data");
  const bool has_deleted = body.contains("deleted") && body.at("deleted").is_array() &&
                           !body.at("deleted").get_array().empty();
  if (!data || data->is_null()) {
    errors.emplace_back("data", "The data field is required.");
  } else if (!data->is_array()) {
    errors.emplace_back("data", "The data must be an array.");
  } else if (data->get_array().empty() && !has_deleted) {
    errors.emplace_back("data", "The data field is required.");
  }
  const std::string node_id = node_of(request, &body);
  std::string batch_id;
  if (const auto* b = body.if_contains("batch_id"); b && !b->is_null()) {
    if (!b->is_string() || !valid_node_id(b->get_string())) {
      errors.emplace_back("batch_id", "The batch id must be 1 to 128 letters, digits, - or _.");
    } else {
      batch_id = std::string(b->get_string());
    }
  }
  if (!node_id.empty() && !valid_node_id(node_id)) {
    errors.emplace_back("node_id", "The node id must be 1 to 128 letters, digits, - or _.");
  }
  const auto* meta = body.if_contains("meta");
  if (meta && !meta->is_null() && !meta->is_array()) errors.emplace_back("meta", "The meta must be an array.");
  const auto* deleted = body.if_contains("deleted");
  if (deleted && !deleted->is_null() && !deleted->is_array()) {
    errors.emplace_back("deleted", "The deleted must be an array.");
  }
  if ((meta && meta->is_array()) && node_id.empty()) {
    errors.emplace_back("node_id", "The node id is required with meta.");
  }
  if (!errors.empty()) return validation_failed(errors);

  synccore::sync::push_request req;
  req.table = table;
  req.data = &data->get_array();
  req.meta = meta && meta->is_array() ? &meta->get_array() : nullptr;
  req.deleted = deleted && deleted->is_array() ? &deleted->get_array() : nullptr;
  req.node_id = node_id;
  req.batch_id = batch_id;
  auto conn = pool_.acquire();
  auto result = synccore::sync::apply_push(*conn, zone_, req);
  if (auto* rejection = std::get_if<synccore::sync::push_rejection>(&result)) {
    error_map fields;
    for (const auto& e : rejection->errors) fields.emplace_back(e.field, e.message);
    synccore::log::log_warning("Push rejected", json::object{
                              {"table", table->name},
                              {"node", node_id.empty() ? "php-slave" : node_id},
                              {"error", rejection->errors.front().field + " " +
                                            rejection->errors.front().message}});
    return validation_failed(fields);
  }
  auto& answer = std::get<json::object>(result);
  json::object context{{"table", table->name},
                       {"direction", "push"},
                       {"node", node_id.empty() ? "php-slave" : node_id},
                       {"rows", answer.at("synced_count")},
                       {"duration_ms", elapsed_ms(start)}};
  if (const auto* c = answer.if_contains("conflicts")) context["conflicts"] = *c;
  if (answer.contains("replayed")) context["replayed"] = true;
  synccore::log::log_info("Successfully synced " + std::string(table->name), context);
  return json_response(200, json::serialize(answer));
}

http_response sync_routes::pull(const http_request& request) {
  const auto start = std::chrono::steady_clock::now();
  error_map errors;
  const auto table_param = request.query_param("table");
  const synccore::tables::table_descriptor* table = nullptr;
  if (!table_param || table_param->empty()) {
    errors.emplace_back("table", "The table field is required.");
  } else if (!(table = synccore::tables::find_table(*table_param))) {
    errors.emplace_back("table", "The selected table is invalid.");
  }
  const auto since = request.query_param("since");
  std::optional<std::string> since_db;
  if (since && !since->empty()) {
    auto parsed = zone_.parse(*since);
    if (!parsed) {
      errors.emplace_back("since", "The since field must be a valid date.");
    } else {
      since_db = zone_.to_db(*parsed);
    }
  }
  const auto cursor_param = request.query_param("cursor");
  std::optional<synccore::sync::pull_cursor> cursor;
  if (cursor_param) {
    auto parsed = synccore::sync::pull_cursor::parse(*cursor_param);
    if (!parsed) {
      errors.emplace_back("cursor", "The cursor is not one this master issued.");
    } else {
      cursor = *parsed;
    }
  }
  std::size_t limit = options_.default_page;
  if (auto l = request.query_param("limit")) {
    std::size_t value = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), value);
    if (ec != std::errc() || p != l->data() + l->size() || value == 0 ||
        value > options_.max_page) {
      errors.emplace_back("limit", "The limit must be between 1 and " +
                                       std::to_string(options_.max_page) + ".");
    } else {
      limit = value;
    }
  }
  const std::string node_id = node_of(request, nullptr);
  if (!node_id.empty() && !valid_node_id(node_id)) {
    errors.emplace_back("node_id", "The node id must be 1 to 128 letters, digits, - or _.");
  }
  if (!errors.empty()) return validation_failed(errors);

  json::value since_echo = since && !since->empty() ? json::value(*since) : json::value(nullptr);
  auto conn = pool_.acquire();
  if (cursor && cursor->started) {
    // Sequence numbers only grow, so a cursor past the last one was not issued by this
    // database (a master restored from a backup or replaced): following it would skip every
    // change until the sequence caught up, silently.
    auto last = conn->prepare("SELECT COALESCE(MAX(seq), 0) FROM ruxx_sync_changes");
    last.step();
    if (cursor->seq > last.column_int64(0)) {
      return validation_failed(
          {{"cursor", "The cursor is not one this master issued (it is ahead of the change "
                      "log); pull again with an empty cursor."}});
    }
  }
  if (cursor) {
    const auto omit = omitted_columns(*table, false);
    auto page = synccore::sync::read_pull_page(*conn, *table, zone_, *cursor, limit, omit);
    const auto count = page.rows.size();
    const auto deletes = page.deleted.size();
    if (!node_id.empty()) {
      auto st = conn->prepare(
          "INSERT INTO ruxx_sync_nodes (node_id, last_pull_at, rows_pulled) VALUES (?, "
          "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?) ON CONFLICT (node_id) DO UPDATE SET "
          "last_pull_at = excluded.last_pull_at, rows_pulled = rows_pulled + excluded.rows_pulled");
      st.bind(1, node_id).bind(2, static_cast<std::int64_t>(count + deletes));
      st.run();
    }
    json::object answer{{"success", true},          {"data", std::move(page.rows)},
                        {"count", count},            {"table", table->name},
                        {"since", since_echo},       {"deleted", std::move(page.deleted)},
                        {"cursor", page.next.text()}, {"has_more", page.has_more},
                        {"protocol", 2}};
    if (count + deletes > 0) {
      synccore::log::log_info("Pulled " + std::string(table->name),
           json::object{{"table", table->name},
                                        {"direction", "pull"},
                                        {"node", node_id},
                                        {"rows", count},
                                        {"deleted", deletes},
                                        {"duration_ms", elapsed_ms(start)}});
    }
    return json_response(200, json::serialize(answer));
  }
  return pull_v1(*table, std::move(since_db), std::move(since_echo), std::move(conn), start);
}

http_response sync_routes::pull_v1(const synccore::tables::table_descriptor& table,
                                   std::optional<std::string> since_db, json::value since_echo,
                                   connection_pool::lease conn,
                                   std::chrono::steady_clock::time_point start) {
  // The answer can be far larger than memory should hold (a PHP slave pulling a million
  // transactions asks for ~350 MB of JSON), so it is produced in chunks: the server sends the
  // first megabyte whole and streams the rest while the client reads it. Each chunk borrows a
  // pooled connection only while it reads.
  constexpr std::size_t chunk_bytes = 256 * 1024;
  struct v1_answer {
    std::vector<std::string_view> omit;
    std::optional<synccore::sync::v1_row_stream> rows;
    std::string tail;
  };
  auto answer = std::make_shared<v1_answer>();
  answer->omit = omitted_columns(table, true);
  answer->rows.emplace(table, zone_, std::move(since_db), answer->omit);
  std::string body = "{\"success\":true,\"data\":[";
  const std::string table_name(table.name);
  // Appends the rows after the previous chunk, and the closing fields after the last row.
  auto append_chunk = [answer, table_name, since_echo = std::move(since_echo), start](
                          synccore::db::connection& db, std::string& out) {
    if (answer->rows->next_chunk(db, out, chunk_bytes)) return true;
    const auto count = answer->rows->count();
    out += "],\"count\":" + std::to_string(count) + ",\"table\":\"" + table_name +
           "\",\"since\":" + json::serialize(since_echo) + "}";
    synccore::log::log_info("Pulled " + table_name, json::object{{"table", table_name},
                                                                 {"direction", "pull"},
                                                                 {"node", "php-slave"},
                                                                 {"rows", count},
                                                                 {"duration_ms", elapsed_ms(start)}});
    return false;
  };
  http_response response = json_response(200, std::string());
  const bool more = append_chunk(*conn, body);
  response.body = std::move(body);
  if (more) {
    response.more_body = [this, append_chunk](std::string& out) {
      auto chunk_conn = pool_.acquire();
      return append_chunk(*chunk_conn, out);
    };
  }
  return response;
}

http_response sync_routes::status(const http_request& request) {
  // Counting a table's rows reads all of it (a million transactions: tens of milliseconds), so
  // a caller that only asks which protocol the master speaks says counts=0.
  const auto counts_param = request.query_param("counts");
  if (counts_param && *counts_param != "0" && *counts_param != "1") {
    return validation_failed({{"counts", "The counts field must be 0 or 1."}});
  }
  const bool with_counts = !counts_param || *counts_param == "1";
  auto conn = pool_.acquire();
  json::array nodes;
  auto st = conn->prepare("SELECT node_id, last_push_at, last_pull_at, rows_pushed, rows_pulled, "
                          "conflicts FROM ruxx_sync_nodes ORDER BY node_id");
  auto text_or_null = [&](int col) {
    return st.is_null(col) ? json::value(nullptr) : json::value(st.column_string(col));
  };
  while (st.step()) {
    nodes.push_back(json::object{{"node_id", st.column_string(0)},
                                 {"last_push_at", text_or_null(1)},
                                 {"last_pull_at", text_or_null(2)},
                                 {"rows_pushed", st.column_int64(3)},
                                 {"rows_pulled", st.column_int64(4)},
                                 {"conflicts", st.column_int64(5)}});
  }
  json::object tables;
  if (with_counts) {
    for (const auto& t : synccore::tables::all_tables()) {
      auto count = conn->prepare("SELECT count(*) FROM " + synccore::db::quote_identifier(t.name));
      count.step();
      tables[t.name] = json::object{{"rows", count.column_int64(0)}};
    }
  }
  auto conflicts = conn->prepare("SELECT count(*) FROM ruxx_sync_conflicts");
  conflicts.step();
  auto seq = conn->prepare("SELECT COALESCE(MAX(seq), 0) FROM ruxx_sync_changes");
  seq.step();
  json::object answer{{"success", true},
                      {"protocol", 2},
                      {"nodes", std::move(nodes)},
                      {"conflicts", conflicts.column_int64(0)},
                      {"change_seq", seq.column_int64(0)}};
  if (with_counts) answer["tables"] = std::move(tables);
  return json_response(200, json::serialize(answer));
}

}  // namespace master
