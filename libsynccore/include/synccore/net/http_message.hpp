// Plain HTTP message types shared by the server (requests in, responses out) and the client
// (responses in), so route handlers and sync jobs never include Boost.Beast. Bodies are always
// the decoded bytes: gzip transfer coding is applied and removed by the server and the client.
// A server response too large to hold in memory can hand over the rest of its body as a source
// the server pulls piece by piece while sending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// The rest of a response body, produced on demand: each call appends the next piece to `out`
// (which the server empties first) and returns true while more may follow, false after the
// last piece.
using body_source = std::function<bool(std::string& out)>;

// A response: produced by a handler on the server side, returned by the client.
struct http_response {
  unsigned status = 200;
  http_headers headers;  // Content-Length, Connection, Content-Encoding are set by the server
  std::string body;      // decoded bytes
  // Server side only: when set, the body is `body` followed by what `more_body` produces. The
  // server calls it on a worker thread, one call at a time and never again after it returned
  // false, and destroys it when the response is sent or abandoned (so it may own resources).
  // A body that ends within the server's first megabyte is sent with Content-Length as usual;
  // a longer one goes out while it is produced, with chunked transfer coding (HTTP/1.1) or
  // until the connection closes (HTTP/1.0), so memory stays bounded. An exception thrown by a
  // call after the header went out is logged and the connection is cut, so the client sees an
  // incomplete body, never a short one that looks whole.
  body_source more_body;
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
