// The typed configuration both binaries run with (DESIGN.md section 5), resolved from four
// sources in increasing precedence: built-in defaults < the `.env` file (--env-file) < the
// process environment < command-line flags. Only the six contract names are read (APP_MODE,
// MASTER_URL, SYNC_API_KEY, APP_TIMEZONE, DB_DATABASE, SYNC_NODE_ID); every other name in the
// .env file or the environment is ignored. Each value is validated and remembers where it came
// from, for `status` output and debugging. Pure logic: the environment is passed in, never read.
#pragma once

#include <synccore/config/environment.hpp>
#include <synccore/util/expected.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace synccore::config {

// The names read from .env and the environment; also the keys of config_sources::flags.
inline constexpr std::string_view app_mode_name = "APP_MODE";
inline constexpr std::string_view master_url_name = "MASTER_URL";
inline constexpr std::string_view api_key_name = "SYNC_API_KEY";
inline constexpr std::string_view app_timezone_name = "APP_TIMEZONE";
inline constexpr std::string_view db_database_name = "DB_DATABASE";
inline constexpr std::string_view node_id_name = "SYNC_NODE_ID";
inline constexpr std::array<std::string_view, 6> setting_names = {
    app_mode_name, master_url_name, api_key_name, app_timezone_name, db_database_name,
    node_id_name};

// The time zone used when APP_TIMEZONE is not set anywhere.
inline constexpr std::string_view default_app_timezone = "Africa/Lagos";

// Where a setting's value came from.
enum class value_source { built_in, env_file, environment, flag };

// "default", ".env", "environment", "flag".
std::string_view to_string(value_source source) noexcept;

// What this node is, from APP_MODE. `unset` when APP_MODE is not set anywhere.
enum class app_mode_kind { unset, master, slave };

// "unset", "master", "slave".
std::string_view to_string(app_mode_kind mode) noexcept;

// The inputs of resolve_settings. Empty values count as "not set" at every level, so an empty
// `KEY=` in .env or an empty exported variable falls through to the level below.
struct config_sources {
  // The parsed .env file (read_env_file); any names, only the six above are read.
  env_map env_file;
  // A snapshot of the process environment (snapshot_environment(environ)).
  env_map environment;
  // Values a binary took from its command line, keyed by the setting names above (for example
  // flags["SYNC_API_KEY"] = the --api-key value). Only the six names are allowed.
  env_map flags;
};

struct settings {
  // APP_MODE: "master" or "slave". Default: unset.
  app_mode_kind app_mode = app_mode_kind::unset;
  // MASTER_URL: http:// or https:// URL of the master, trailing '/' removed. Default: "" (unset).
  std::string master_url;
  // SYNC_API_KEY: the shared secret. Never log or print it. Default: "" (unset).
  std::string api_key;
  // APP_TIMEZONE: a tz database name, checked with date::locate_zone. Default: "Africa/Lagos".
  std::string app_timezone{default_app_timezone};
  // DB_DATABASE: path of the SQLite file (relative paths are relative to the working
  // directory). Default: "" (unset).
  std::filesystem::path db_database;
  // SYNC_NODE_ID: this slave's node id override. Default: "" (unset: the slave uses the id
  // stored in its database).
  std::string node_id;

  // Where each of the six settings came from, in setting_names order.
  std::array<value_source, setting_names.size()> sources{};

  // Returns where setting `name` (one of setting_names) came from.
  // Throws std::invalid_argument for any other name.
  value_source source_of(std::string_view name) const;
};

// Resolves and validates the settings. Returns an input_error whose field is the setting name
// and whose message starts with it and says where the bad value came from, for example
// `APP_TIMEZONE: unknown time zone "Mars/Base" (from .env)`. Messages never contain the API
// key. Throws std::invalid_argument when `sources.flags` holds a name outside setting_names
// (a programming error in the calling binary). Thread-safe.
expected<settings> resolve_settings(const config_sources& sources);

// Convenience for the binaries: reads `env_file` when given (with `environment` available for
// ${NAME} interpolation), then resolves. Errors are those of read_env_file and
// resolve_settings.
expected<settings> load_settings(const std::optional<std::filesystem::path>& env_file,
                                 env_map environment, env_map flags);

// One line per setting, "NAME=value (source)", in setting_names order, for `status` output and
// debugging. The API key is shown as ******** when set; unset values as "(unset)".
std::string describe_settings(const settings& s);

}  // namespace synccore::config
