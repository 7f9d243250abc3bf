// parse_base_url: a strict parser for the small subset of URLs a master address needs.
#include <synccore/net/url.hpp>

#include <algorithm>
#include <charconv>

#include "text_util.hpp"

namespace synccore::net {
namespace {

input_error url_error(std::string message) { return input_error{"url", std::move(message)}; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), detail::ascii_lower);
  return out;
}

bool has_forbidden_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

}  // namespace

std::string base_url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string base_url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string base_url::to_string() const {
  return std::string(tls ? "https://" : "http://") + host_header() + base_path;
}

expected<base_url> parse_base_url(std::string_view url) {
  if (url.empty()) return url_error("URL is empty");
  if (has_forbidden_char(url)) return url_error("URL contains spaces or control characters");
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return url_error("URL must start with http:// or https://");
  }
  base_url result;
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https") {
    result.tls = true;
    result.port = 443;
  } else if (scheme != "http") {
    return url_error("unsupported URL scheme '" + scheme + "' (use http or https)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return url_error("URL must not contain a query or fragment");
  }
  const std::size_t path_start = rest.find('/');
  const std::string_view authority = rest.substr(0, path_start);
  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return url_error("URL must not contain user information");
  }

  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return url_error("unterminated IPv6 address in URL");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_error("unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return url_error("URL has an empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return url_error("URL has an empty port");
    }
  }
  if (host.empty()) return url_error("URL has no host");
  result.host = lower(host);
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return url_error("invalid port '" + std::string(port_text) + "' in URL");
    }
    result.port = static_cast<std::uint16_t>(value);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  result.base_path = std::string(path);
  return result;
}

}  // namespace synccore::net
