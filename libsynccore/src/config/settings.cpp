#include <synccore/config/env_file.hpp>
#include <synccore/config/settings.hpp>

#include <date/tz.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace synccore::config {
namespace {

constexpr std::size_t max_node_id_length = 128;

std::size_t index_of(std::string_view name) {
  const auto it = std::find(setting_names.begin(), setting_names.end(), name);
  if (it == setting_names.end()) {
    throw std::invalid_argument("unknown setting name \"" + std::string(name) + "\"");
  }
  return static_cast<std::size_t>(it - setting_names.begin());
}

struct picked {
  std::string value;  // empty when no source set it
  value_source source = value_source::built_in;
};

const std::string* non_empty(const env_map& map, std::string_view name) {
  const auto it = map.find(name);
  if (it == map.end() || it->second.empty()) return nullptr;
  return &it->second;
}

picked pick(const config_sources& sources, std::string_view name) {
  if (const auto* v = non_empty(sources.flags, name)) return {*v, value_source::flag};
  if (const auto* v = non_empty(sources.environment, name)) return {*v, value_source::environment};
  if (const auto* v = non_empty(sources.env_file, name)) return {*v, value_source::env_file};
  return {};
}

input_error invalid(std::string_view name, const picked& p, std::string_view what) {
  std::string message(name);
  message += ": ";
  message += what;
  switch (p.source) {
    case value_source::flag: message += " (from the command line)"; break;
    case value_source::environment: message += " (from the environment)"; break;
    case value_source::env_file: message += " (from .env)"; break;
    case value_source::built_in: break;
  }
  return input_error{std::string(name), std::move(message)};
}

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool is_node_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::string_view to_string(value_source source) noexcept {
  switch (source) {
    case value_source::built_in: return "default";
    case value_source::env_file: return ".env";
    case value_source::environment: return "environment";
    case value_source::flag: return "flag";
  }
  return "default";
}

std::string_view to_string(app_mode_kind mode) noexcept {
  switch (mode) {
    case app_mode_kind::unset: return "unset";
    case app_mode_kind::master: return "master";
    case app_mode_kind::slave: return "slave";
  }
  return "unset";
}

value_source settings::source_of(std::string_view name) const { return sources[index_of(name)]; }

expected<settings> resolve_settings(const config_sources& sources) {
  for (const auto& [name, value] : sources.flags) index_of(name);  // throws on a typo

  settings out;
  auto record = [&](std::string_view name, const picked& p) {
    out.sources[index_of(name)] = p.source;
  };

  if (const picked p = pick(sources, app_mode_name); p.source != value_source::built_in) {
    if (p.value == "master") {
      out.app_mode = app_mode_kind::master;
    } else if (p.value == "slave") {
      out.app_mode = app_mode_kind::slave;
    } else {
      return invalid(app_mode_name, p,
                     "must be \"master\" or \"slave\", got " + in_quotes(p.value));
    }
    record(app_mode_name, p);
  }

  if (const picked p = pick(sources, master_url_name); p.source != value_source::built_in) {
    std::string_view url = p.value;
    std::size_t scheme = 0;
    if (starts_with_ci(url, "https://")) {
      scheme = 8;
    } else if (starts_with_ci(url, "http://")) {
      scheme = 7;
    } else {
      return invalid(master_url_name, p,
                     "must start with http:// or https://, got " + in_quotes(p.value));
    }
    if (std::any_of(url.begin(), url.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return u <= 0x20 || u == 0x7f;
        })) {
      return invalid(master_url_name, p, "must not contain spaces or control characters");
    }
    while (url.size() > scheme && url.back() == '/') url.remove_suffix(1);
    if (url.size() == scheme || url[scheme] == '/' || url[scheme] == '?' || url[scheme] == '#') {
      return invalid(master_url_name, p, "has no host: " + in_quotes(p.value));
    }
    out.master_url = std::string(url);
    record(master_url_name, p);
  }

  if (const picked p = pick(sources, api_key_name); p.source != value_source::built_in) {
    if (has_control_char(p.value)) {
      return invalid(api_key_name, p, "must not contain control characters (line breaks, tabs)");
    }
    out.api_key = p.value;
    record(api_key_name, p);
  }

  if (const picked p = pick(sources, app_timezone_name); p.source != value_source::built_in) {
    try {
      (void)date::locate_zone(p.value);
    } catch (const std::exception&) {
      return invalid(app_timezone_name, p, "unknown time zone " + in_quotes(p.value));
    }
    out.app_timezone = p.value;
    record(app_timezone_name, p);
  }

  if (const picked p = pick(sources, db_database_name); p.source != value_source::built_in) {
    if (p.value.find('\0') != std::string::npos) {
      return invalid(db_database_name, p, "must not contain a NUL character");
    }
    out.db_database = p.value;
    record(db_database_name, p);
  }

  if (const picked p = pick(sources, node_id_name); p.source != value_source::built_in) {
    if (p.value.size() > max_node_id_length ||
        !std::all_of(p.value.begin(), p.value.end(), is_node_id_char)) {
      return invalid(node_id_name, p,
                     "must be 1 to 128 characters among A-Z a-z 0-9 . _ -, got " +
                         in_quotes(p.value));
    }
    out.node_id = p.value;
    record(node_id_name, p);
  }

  return out;
}

expected<settings> load_settings(const std::optional<std::filesystem::path>& env_file,
                                 env_map environment, env_map flags) {
  config_sources sources;
  if (env_file) {
    auto parsed = read_env_file(*env_file, environment);
    if (!parsed) return parsed.error();
    sources.env_file = std::move(*parsed);
  }
  sources.environment = std::move(environment);
  sources.flags = std::move(flags);
  return resolve_settings(sources);
}

std::string describe_settings(const settings& s) {
  auto or_unset = [](std::string_view v) {
    return v.empty() ? std::string("(unset)") : std::string(v);
  };
  const std::array<std::string, setting_names.size()> shown = {
      s.app_mode == app_mode_kind::unset ? std::string("(unset)")
                                         : std::string(to_string(s.app_mode)),
      or_unset(s.master_url),
      s.api_key.empty() ? std::string("(unset)") : std::string("********"),
      s.app_timezone,
      or_unset(s.db_database.string()),
      or_unset(s.node_id)};
  std::string out;
  for (std::size_t i = 0; i < setting_names.size(); ++i) {
    out += setting_names[i];
    out += '=';
    out += shown[i];
    out += " (";
    out += to_string(s.sources[i]);
    out += ")\n";
  }
  return out;
}

}  // namespace synccore::config
