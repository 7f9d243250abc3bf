#include <synccore/log/line_format.hpp>

#include <boost/json.hpp>
#include <date/tz.h>

#include <charconv>
#include <cmath>
#include <string>

namespace synccore::log {
namespace {

void append_json(std::string& out, const boost::json::value& v);

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  out += text;
  // JSON_PRESERVE_ZERO_FRACTION: a float stays recognisable as one (12.0, not 12).
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_object(std::string& out, const boost::json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& member : o) {
    if (!first) out += ',';
    first = false;
    out += boost::json::serialize(member.key());
    out += ':';
    append_json(out, member.value());
  }
  out += '}';
}

void append_json(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: append_double(out, v.get_double()); return;
    case boost::json::kind::string: out += boost::json::serialize(v.get_string()); return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json(out, element);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: append_object(out, v.get_object()); return;
  }
}

void append_one_line(std::string& out, std::string_view message) {
  for (char c : message) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string context_to_json(const boost::json::object& context) {
  std::string out;
  if (context.empty()) return out;
  append_object(out, context);
  return out;
}

std::string format_log_line(const date::time_zone* zone, std::string_view channel,
                            std::chrono::system_clock::time_point time, log_level level,
                            std::string_view message, std::string_view context_json) {
  const auto local = date::make_zoned(zone, std::chrono::floor<std::chrono::seconds>(time));
  std::string line;
  line.reserve(32 + channel.size() + message.size() + context_json.size());
  line += '[';
  line += date::format("%Y-%m-%d %H:%M:%S", local);
  line += "] ";
  line += channel;
  line += '.';
  line += level_name(level);
  line += ": ";
  append_one_line(line, message);
  if (!context_json.empty()) {
    line += ' ';
    line += context_json;
  }
  return line;
}

}  // namespace synccore::log
