// http_headers, http_request helpers and JSON response builders.
#include <synccore/net/http_message.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/object.hpp>

#include "text_util.hpp"

namespace synccore::net {
using detail::iequals;

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> http_headers::get(std::string_view name) const {
  for (const field& f : fields_) {
    if (iequals(f.first, name)) return std::string_view(f.second);
  }
  return std::nullopt;
}

void http_headers::set(std::string name, std::string value) {
  erase(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void http_headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void http_headers::erase(std::string_view name) {
  std::erase_if(fields_, [&](const field& f) { return iequals(f.first, name); });
}

std::string_view http_request::path() const {
  const std::string_view t(target);
  return t.substr(0, t.find('?'));
}

std::string_view http_request::query() const {
  const std::string_view t(target);
  const std::size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

std::optional<std::string> http_request::query_param(std::string_view name) const {
  std::string_view rest = query();
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (percent_decode(key, true) != name) continue;
    return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

http_response json_response(unsigned status, std::string json_body) {
  http_response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(json_body);
  return r;
}

http_response json_error(unsigned status, std::string_view error, std::string_view message) {
  const boost::json::object body{{"error", error}, {"message", message}};
  return json_response(status, boost::json::serialize(body));
}

}  // namespace synccore::net
