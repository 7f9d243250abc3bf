// Reads Laravel-style `.env` files with the grammar of vlucas/phpdotenv v5 (what Laravel uses),
// so that a file the Laravel app accepts yields the same values here: `KEY=value` lines,
// `# comments`, blank lines, an optional `export ` prefix, single-quoted values (literal),
// double-quoted values (escapes \" \\ \$ \n \r \t \f \v, may span several lines), `${NAME}`
// interpolation in unquoted and double-quoted values, CRLF line endings and a UTF-8 BOM.
// docs/CONFIGURATION.md has the full grammar. Pure functions: thread-safe, no global state.
#pragma once

#include <synccore/config/environment.hpp>
#include <synccore/util/expected.hpp>

#include <filesystem>
#include <string_view>

namespace synccore::config {

// Parses the text of a .env file. `source_name` (usually the path) is only used in error
// messages. `${NAME}` in an unquoted or double-quoted value is replaced by NAME's value from
// `environment` when set there, else from a key defined earlier in the text; an unknown NAME
// is kept literally (as phpdotenv does). A key defined twice keeps its last value; a line that
// is only a key (`NAME` or `export NAME`, no '=') removes what the text defined for it before,
// as phpdotenv does. Returns an input_error whose message starts with "<source_name>:<line>: "
// for: a line without '=' that is not a key (field "line N"), an invalid key name (field
// "line N"), and, with the key as field, an
// unterminated quote, an unknown escape sequence in double quotes, or text after a value
// (unquoted values may not contain whitespace; quote them).
expected<env_map> parse_env_text(std::string_view text, std::string_view source_name,
                                 const env_map& environment = {});

// Reads and parses the file at `path` (the path is the source name in messages). A missing or
// unreadable file is an input_error with field "--env-file" and a message naming the path and
// the system's reason. Throws only std::bad_alloc.
expected<env_map> read_env_file(const std::filesystem::path& path,
                                const env_map& environment = {});

}  // namespace synccore::config
