// cron_expression::parse: the five fields and the @macros, with errors naming field and value.
#include <synccore/cron/cron_expression.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace synccore::cron {

namespace {

// One of the five fields: its name in messages, its range, and the names it accepts.
struct field_spec {
  const char* name;
  int min;
  int max;
  const std::array<const char*, 12>* names;  // names[i] means value names_base + i; or nullptr
  int names_base;
  int name_count;
};

constexpr std::array<const char*, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> weekday_names = {"sun", "mon", "tue", "wed", "thu", "fri",
                                                       "sat", "",    "",    "",    "",    ""};

constexpr field_spec minute_field{"minute", 0, 59, nullptr, 0, 0};
constexpr field_spec hour_field{"hour", 0, 23, nullptr, 0, 0};
constexpr field_spec day_of_month_field{"day-of-month", 1, 31, nullptr, 0, 0};
constexpr field_spec month_field{"month", 1, 12, &month_names, 1, 12};
constexpr field_spec day_of_week_field{"day-of-week", 0, 7, &weekday_names, 0, 7};

struct macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<macro, 7> macros = {{{"@yearly", "0 0 1 1 *"},
                                          {"@annually", "0 0 1 1 *"},
                                          {"@monthly", "0 0 1 * *"},
                                          {"@weekly", "0 0 * * 0"},
                                          {"@daily", "0 0 * * *"},
                                          {"@midnight", "0 0 * * *"},
                                          {"@hourly", "0 * * * *"}}};

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

input_error cron_error(std::string message) { return input_error{"cron", std::move(message)}; }

input_error field_error(const field_spec& field, std::string_view value, std::string_view why) {
  std::string message = field.name;
  message += " field \"";
  message += value;
  message += "\" ";
  message += why;
  return cron_error(std::move(message));
}

std::string range_text(const field_spec& field) {
  return std::to_string(field.min) + "-" + std::to_string(field.max);
}

// Parses a decimal number; nullopt when `text` is empty, has a non-digit or is absurdly long.
std::optional<int> parse_number(std::string_view text) noexcept {
  if (text.empty() || text.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// One value of `field`: a number in range or, where the field has names, a name.
expected<int> parse_value(const field_spec& field, std::string_view text) {
  if (auto number = parse_number(text)) {
    if (*number < field.min || *number > field.max) {
      return field_error(field, text, "is out of range " + range_text(field));
    }
    return *number;
  }
  if (field.names != nullptr) {
    for (int i = 0; i < field.name_count; ++i) {
      if (equals_ignoring_case(text, (*field.names)[static_cast<std::size_t>(i)])) {
        return field.names_base + i;
      }
    }
    const char* what = field.names == &month_names ? "is not a number or a month name (jan-dec)"
                                                   : "is not a number or a weekday name (sun-sat)";
    return field_error(field, text, what);
  }
  return field_error(field, text, "is not a number");
}

// Parses one comma-separated item (`*`, `N`, `N-M`, each with an optional `/STEP`) of `field`
// and sets its bits in `bits`.
std::optional<input_error> parse_item(const field_spec& field, std::string_view item,
                                      std::uint64_t& bits) {
  std::string_view base = item;
  int step = 1;
  bool has_step = false;
  if (const auto slash = item.find('/'); slash != std::string_view::npos) {
    base = item.substr(0, slash);
    const std::string_view step_text = item.substr(slash + 1);
    const int widest = field.max - field.min + 1;
    const auto number = parse_number(step_text);
    if (!number || *number < 1 || *number > widest) {
      return field_error(field, item,
                         "has a bad step \"" + std::string(step_text) + "\" (a step must be 1-" +
                             std::to_string(widest) + ")");
    }
    step = *number;
    has_step = true;
  }
  if (base.empty()) return field_error(field, item, "is missing a value before '/'");

  int first = field.min;
  int last = field.max;
  if (base != "*") {
    const auto dash = base.find('-');
    if (dash == 0 || dash + 1 == base.size()) {
      return field_error(field, item, "is not a value or a range N-M");
    }
    auto start = parse_value(field, base.substr(0, dash));
    if (!start) return start.error();
    first = *start;
    if (dash != std::string_view::npos) {
      auto end = parse_value(field, base.substr(dash + 1));
      if (!end) return end.error();
      last = *end;
      if (last < first) {
        return field_error(field, base, "is a range that runs backwards (" +
                                            std::to_string(first) + " is after " +
                                            std::to_string(last) + ")");
      }
    } else if (!has_step) {
      last = first;  // `N` alone; `N/STEP` runs to the field's maximum
    }
  }
  for (int v = first; v <= last; v += step) bits |= std::uint64_t{1} << v;
  return std::nullopt;
}

// Parses a whole field (a comma list of items) into bits.
expected<std::uint64_t> parse_field(const field_spec& field, std::string_view text) {
  std::uint64_t bits = 0;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::size_t length = comma == std::string_view::npos ? std::string_view::npos
                                                               : comma - begin;
    const std::string_view item = text.substr(begin, length);
    if (item.empty()) return field_error(field, text, "has an empty list item");
    if (auto error = parse_item(field, item, bits)) return *error;
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return bits;
}

}  // namespace

expected<cron_expression> cron_expression::parse(std::string_view text) {
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) return cron_error("the cron expression is empty");

  std::string_view fields_text = trimmed;
  if (trimmed.front() == '@') {
    const macro* found = nullptr;
    for (const auto& m : macros) {
      if (equals_ignoring_case(trimmed, m.name)) found = &m;
    }
    if (found == nullptr) {
      return cron_error("unknown cron macro \"" + std::string(trimmed) +
                        "\" (expected @yearly, @annually, @monthly, @weekly, @daily, "
                        "@midnight or @hourly)");
    }
    fields_text = found->expansion;
  }

  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < fields_text.size()) {
    while (pos < fields_text.size() && is_space(fields_text[pos])) ++pos;
    if (pos == fields_text.size()) break;
    std::size_t end = pos;
    while (end < fields_text.size() && !is_space(fields_text[end])) ++end;
    if (count < fields.size()) fields[count] = fields_text.substr(pos, end - pos);
    ++count;
    pos = end;
  }
  if (count != fields.size()) {
    return cron_error("expected 5 fields (minute hour day-of-month month day-of-week) but got " +
                      std::to_string(count) + " in \"" + std::string(trimmed) + "\"");
  }

  cron_expression result;
  auto minutes = parse_field(minute_field, fields[0]);
  if (!minutes) return minutes.error();
  auto hours = parse_field(hour_field, fields[1]);
  if (!hours) return hours.error();
  auto days = parse_field(day_of_month_field, fields[2]);
  if (!days) return days.error();
  auto months = parse_field(month_field, fields[3]);
  if (!months) return months.error();
  auto weekdays = parse_field(day_of_week_field, fields[4]);
  if (!weekdays) return weekdays.error();

  result.minutes_ = *minutes;
  result.hours_ = static_cast<std::uint32_t>(*hours);
  result.days_of_month_ = static_cast<std::uint32_t>(*days);
  result.months_ = static_cast<std::uint16_t>(*months);
  // Day 7 is Sunday, as day 0.
  const std::uint64_t sunday7 = std::uint64_t{1} << 7;
  result.days_of_week_ =
      static_cast<std::uint8_t>((*weekdays & ~sunday7) | ((*weekdays & sunday7) != 0 ? 1U : 0U));
  result.dom_unrestricted_ = fields[2].front() == '*';
  result.dow_unrestricted_ = fields[4].front() == '*';
  result.text_ = std::string(trimmed);
  return result;
}

bool operator==(const cron_expression& a, const cron_expression& b) noexcept {
  return a.minutes_ == b.minutes_ && a.hours_ == b.hours_ &&
         a.days_of_month_ == b.days_of_month_ && a.months_ == b.months_ &&
         a.days_of_week_ == b.days_of_week_ && a.dom_unrestricted_ == b.dom_unrestricted_ &&
         a.dow_unrestricted_ == b.dow_unrestricted_;
}

}  // namespace synccore::cron
