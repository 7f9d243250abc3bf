// The master's base URL as the slave agent is configured with it (`--master-url`,
// `MASTER_URL`): `http://host[:port][/base]` or `https://...`. Parsing is strict so that a
// typo is reported at start-up as a configuration error rather than as "master unreachable".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <synccore/util/expected.hpp>

namespace synccore::net {

struct base_url {
  bool tls = false;         // https
  std::string host;         // name or IP literal, without the brackets of an IPv6 literal
  std::uint16_t port = 80;  // explicit, else 80 (http) / 443 (https)
  std::string base_path;    // "" or "/prefix" (no trailing slash); request targets go after it

  // Returns the Host header value: host, plus ":port" when not the scheme's default.
  std::string host_header() const;
  // Returns "host:port" ("[::1]:8443"), for messages.
  std::string authority() const;
  // Returns the normalised URL, e.g. "https://sync.example.com/ruxx".
  std::string to_string() const;
};

// Parses `url`. Errors (field "url"): a scheme other than http/https, a missing host, a port
// that is not 1..65535, user info ("user@host"), a query or fragment, spaces or control
// characters. The scheme and host are case-insensitive and returned in lower case.
expected<base_url> parse_base_url(std::string_view url);

}  // namespace synccore::net
