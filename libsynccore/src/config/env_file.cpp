// The .env parser: lines are split (LF, CRLF or CR), a key is everything before the first '='
// (trimmed, optional `export `, optional quotes), and the value runs through the same state
// machine as phpdotenv's EntryParser. A double-quoted value left open at the end of a line
// continues on the next line; `$` positions that may start `${NAME}` are remembered during the
// scan (escaped `\$` and single-quoted text never interpolate) and resolved afterwards.
#include <synccore/config/env_file.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace synccore::config {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_left(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) noexcept {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_name_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

struct source_line {
  std::string_view text;
  std::size_t number;  // 1-based
};

std::vector<source_line> split_lines(std::string_view text) {
  std::vector<source_line> lines;
  std::size_t number = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back({text.substr(start, i - start), number++});
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back({text.substr(start), number});
  return lines;
}

// Strips `export ` and matching quotes around the key, as phpdotenv does. Returns nullopt when
// what is left is not a valid key.
std::optional<std::string> parse_name(std::string_view raw) {
  std::string_view name = raw;
  if (name.size() > 7 && name.substr(0, 6) == "export" && is_space(name[6])) {
    name = trim_left(name.substr(6));
  }
  if (name.size() >= 3 && ((name.front() == '"' && name.back() == '"') ||
                           (name.front() == '\'' && name.back() == '\''))) {
    name = name.substr(1, name.size() - 2);
  }
  if (!is_valid_name(name)) return std::nullopt;
  return std::string(name);
}

// phpdotenv's value automaton. Feed characters; check state at the end of each line.
class value_scanner {
 public:
  enum class state { initial, unquoted, single_quoted, double_quoted, escape, after, comment };

  // Returns an error text (without location) on an invalid character, else empty.
  std::string feed(char c) {
    switch (state_) {
      case state::initial:
        if (c == '\'') {
          state_ = state::single_quoted;
        } else if (c == '"') {
          state_ = state::double_quoted;
        } else if (c == '#') {
          state_ = state::comment;
        } else if (is_space(c)) {
          // Only reachable for whitespace after '=' (the caller trims; kept for safety).
        } else {
          append_unquoted(c);
          state_ = state::unquoted;
        }
        return {};
      case state::unquoted:
        if (c == '#') {
          state_ = state::comment;
        } else if (is_space(c)) {
          state_ = state::after;
        } else {
          append_unquoted(c);
        }
        return {};
      case state::single_quoted:
        if (c == '\'') {
          state_ = state::after;
        } else {
          value_ += c;
        }
        return {};
      case state::double_quoted:
        if (c == '"') {
          state_ = state::after;
        } else if (c == '\\') {
          state_ = state::escape;
        } else {
          append_unquoted(c);
        }
        return {};
      case state::escape:
        state_ = state::double_quoted;
        switch (c) {
          case '"': case '\\': case '$': value_ += c; return {};
          case 'n': value_ += '\n'; return {};
          case 'r': value_ += '\r'; return {};
          case 't': value_ += '\t'; return {};
          case 'f': value_ += '\f'; return {};
          case 'v': value_ += '\v'; return {};
          default:
            if (c == '\n') return "a backslash at the end of a line";
            return std::string("an unknown escape sequence \\") + c;
        }
      case state::after:
        if (c == '#') {
          state_ = state::comment;
        } else if (!is_space(c)) {
          return std::string("unexpected text after the value (an unquoted value cannot contain "
                             "whitespace: put it in quotes)");
        }
        return {};
      case state::comment:
        return {};
    }
    return {};
  }

  state current() const noexcept { return state_; }
  const std::string& value() const noexcept { return value_; }
  const std::vector<std::size_t>& dollar_positions() const noexcept { return dollars_; }

 private:
  void append_unquoted(char c) {
    if (c == '$') dollars_.push_back(value_.size());
    value_ += c;
  }

  state state_ = state::initial;
  std::string value_;
  std::vector<std::size_t> dollars_;
};

// Replaces `${NAME}` at the remembered positions: environment first, then earlier keys.
std::string interpolate(const std::string& raw, const std::vector<std::size_t>& dollars,
                        const env_map& environment, const env_map& earlier) {
  if (dollars.empty()) return raw;
  std::string out;
  std::size_t copied = 0;
  for (std::size_t pos : dollars) {
    if (pos < copied) continue;  // inside an already replaced reference
    if (pos + 3 > raw.size() || raw[pos + 1] != '{') continue;
    const auto close = raw.find('}', pos + 2);
    if (close == std::string::npos) continue;
    const std::string_view name(raw.data() + pos + 2, close - pos - 2);
    if (!is_valid_name(name)) continue;
    const std::string* replacement = nullptr;
    if (auto it = environment.find(name); it != environment.end()) {
      replacement = &it->second;
    } else if (auto jt = earlier.find(name); jt != earlier.end()) {
      replacement = &jt->second;
    }
    if (replacement == nullptr) continue;  // unknown: kept literally
    out.append(raw, copied, pos - copied);
    out += *replacement;
    copied = close + 1;
  }
  out.append(raw, copied, std::string::npos);
  return out;
}

input_error located_error(std::string field, std::string_view source, std::size_t line,
                          std::string_view what) {
  std::string message(source);
  message += ':';
  message += std::to_string(line);
  message += ": ";
  message += what;
  return input_error{std::move(field), std::move(message)};
}

std::string line_field(std::size_t line) { return "line " + std::to_string(line); }

std::string shorten(std::string_view s) {
  constexpr std::size_t limit = 60;
  if (s.size() <= limit) return std::string(s);
  return std::string(s.substr(0, limit)) + "...";
}

}  // namespace

expected<env_map> parse_env_text(std::string_view text, std::string_view source_name,
                                 const env_map& environment) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.substr(0, bom.size()) == bom) text.remove_prefix(bom.size());

  const std::vector<source_line> lines = split_lines(text);
  env_map out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t first_line = lines[i].number;
    const std::string_view line = trim_left(lines[i].text);
    if (trim(line).empty() || line.front() == '#') continue;

    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      // phpdotenv reads a bare `NAME` as NAME without a value, which un-defines what the file
      // set before (Laravel's immutable repository never clears the real environment); a line
      // that is not a valid name is an error there too.
      if (auto bare = parse_name(trim(line))) {
        out.erase(*bare);
        continue;
      }
      return located_error(line_field(first_line), source_name, first_line,
                           "expected KEY=value, got \"" + shorten(trim(line)) + "\"");
    }
    const std::string_view raw_name = trim(line.substr(0, eq));
    std::optional<std::string> name = parse_name(raw_name);
    if (!name) {
      return located_error(line_field(first_line), source_name, first_line,
                           "invalid key name \"" + shorten(raw_name) +
                               "\" (use letters, digits, '_' and '.')");
    }

    value_scanner scanner;
    std::string_view chunk = trim_left(line.substr(eq + 1));
    for (;;) {
      for (char c : chunk) {
        std::string problem = scanner.feed(c);
        if (!problem.empty()) {
          return located_error(*name, source_name, lines[i].number,
                               "value of " + *name + ": " + problem);
        }
      }
      const auto state = scanner.current();
      if (state != value_scanner::state::double_quoted &&
          state != value_scanner::state::escape) {
        break;
      }
      if (i + 1 >= lines.size()) {
        return located_error(*name, source_name, first_line,
                             "value of " + *name + ": unterminated double quote");
      }
      std::string problem = scanner.feed('\n');  // the line break is part of the value
      if (!problem.empty()) {
        return located_error(*name, source_name, lines[i].number,
                             "value of " + *name + ": " + problem);
      }
      chunk = lines[++i].text;
    }
    if (scanner.current() == value_scanner::state::single_quoted) {
      return located_error(*name, source_name, first_line,
                           "value of " + *name + ": unterminated single quote");
    }
    std::string value =
        interpolate(scanner.value(), scanner.dollar_positions(), environment, out);
    out.insert_or_assign(std::move(*name), std::move(value));
  }
  return out;
}

expected<env_map> read_env_file(const std::filesystem::path& path, const env_map& environment) {
  struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return input_error{"--env-file", "cannot read .env file \"" + name + "\": is a directory"};
  }
  std::unique_ptr<std::FILE, file_closer> file(std::fopen(name.c_str(), "rb"));
  if (!file) {
    const int err = errno;
    return input_error{"--env-file",
                       "cannot read .env file \"" + name + "\": " + std::strerror(err)};
  }
  std::string text;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) {
    const int err = errno;
    return input_error{"--env-file",
                       "cannot read .env file \"" + name + "\": " + std::strerror(err)};
  }
  return parse_env_text(text, name, environment);
}

}  // namespace synccore::config
