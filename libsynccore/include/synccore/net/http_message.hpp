// Plain HTTP message types shared by the server (requests in, responses out) and the client
// (responses in), so route handlers and sync jobs never include Boost.Beast. Bodies are always
// the decoded bytes: gzip transfer coding is applied and removed by the server and the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synccore::net {

// An ordered list of header fields with case-insensitive name lookup. Plain value type; not
// synchronised (one thread at a time, like std::vector).
class http_headers {
 public:
  using field = std::pair<std::string, std::string>;  // name as written, value

  // Returns the value of the first field named `name` (ASCII case-insensitive), or nullopt.
  // The view is valid until the headers are next modified.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  // Replaces every field named `name` by a single field `name: value`.
  void set(std::string name, std::string value);
  // Appends `name: value`, keeping existing fields of that name.
  void add(std::string name, std::string value);
  // Removes every field named `name`.
  void erase(std::string_view name);

  std::vector<field>::const_iterator begin() const noexcept { return fields_.begin(); }
  std::vector<field>::const_iterator end() const noexcept { return fields_.end(); }
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }

 private:
  std::vector<field> fields_;
};

// A request as the server hands it to the handler.
struct http_request {
  std::string method;               // as sent, e.g. "GET", "POST"
  std::string target;               // origin-form as sent, e.g. "/api/sync/pull?table=users"
  unsigned version = 11;            // 10 for HTTP/1.0, 11 for HTTP/1.1
  http_headers headers;             // as received (Content-Encoding is kept for information)
  std::string body;                 // decoded: a gzip request body is already decompressed
  std::string remote_address;       // peer as "IP:PORT" ("[IPv6]:PORT"), for logs
  std::uint64_t connection_id = 0;  // 1, 2, ... per accepted connection of this server

  // Returns the target up to (excluding) '?', not percent-decoded.
  std::string_view path() const;
  // Returns the raw query string after '?' ("" when there is none).
  std::string_view query() const;
  // Returns the value of the first query parameter `name`, percent-decoded with '+' as a space
  // (as PHP's $_GET does); "" for `?name=` or `?name`; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

// A response: produced by a handler on the server side, returned by the client.
struct http_response {
  unsigned status = 200;
  http_headers headers;  // Content-Length, Connection, Content-Encoding are set by the server
  std::string body;      // decoded bytes
};

// Returns a response with `status`, `Content-Type: application/json` and `json_body` as is.
http_response json_response(unsigned status, std::string json_body);

// Returns a JSON error response `{"error":"<error>","message":"<message>"}` (strings escaped),
// the shape the PHP module uses, e.g. json_error(413, "Payload Too Large", "...").
http_response json_error(unsigned status, std::string_view error, std::string_view message);

// Returns `text` percent-decoded ("%3A" -> ":"); with `plus_is_space`, '+' becomes ' '.
// Malformed escapes ("%zz", a trailing '%') are kept literally.
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace synccore::net
