#include <synccore/time/timestamp_text.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace synccore::time {

namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::size_t max_quoted_chars = 64;

// The error for `text`, quoting it (shortened when long) and saying `why`. Only runs on failure.
input_error bad_timestamp(std::string_view text, std::string_view why) {
  std::string quoted;
  if (text.size() > max_quoted_chars) {
    quoted.assign(text.substr(0, max_quoted_chars));
    quoted += "...";
  } else {
    quoted.assign(text);
  }
  std::string message = "\"" + quoted + "\" is not a valid timestamp: ";
  message += why;
  message += " (expected ISO-8601 like 2026-11-24T14:28:49Z, 2026-11-24T15:28:49+01:00 or "
             "2026-11-24 15:28:49)";
  return input_error{"timestamp", std::move(message)};
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// A cursor over the text that reads fixed-width digit fields.
class cursor {
 public:
  explicit cursor(std::string_view text) noexcept : text_(text) {}

  bool at_end() const noexcept { return pos_ == text_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
  void skip() noexcept { ++pos_; }

  // Reads exactly `width` digits into `out`; false (and nothing consumed) otherwise.
  bool digits(int width, int& out) noexcept {
    if (text_.size() - pos_ < static_cast<std::size_t>(width)) return false;
    int value = 0;
    for (int i = 0; i < width; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    pos_ += static_cast<std::size_t>(width);
    out = value;
    return true;
  }

  bool expect(char c) noexcept {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }

  // Reads one or more digits as a fraction of a second, truncated to microseconds.
  bool fraction(microseconds& out) noexcept {
    if (at_end() || !is_digit(peek())) return false;
    std::int64_t micros = 0;
    int used = 0;
    while (!at_end() && is_digit(peek())) {
      if (used < 6) {
        micros = micros * 10 + (peek() - '0');
        ++used;
      }
      ++pos_;
    }
    for (; used < 6; ++used) micros *= 10;
    out = microseconds{micros};
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Parses the zone designator at the cursor ('Z' or [+-]HH[[:]MM]) up to the end of the text.
// Returns nullptr and sets `out` on success, else a short reason.
const char* parse_zone(cursor& in, minutes& out) noexcept {
  if (in.expect('Z')) {
    out = minutes{0};
    return nullptr;
  }
  const char sign = in.peek();
  if (sign != '+' && sign != '-') return "unexpected text after the time";
  in.skip();
  int hh = 0;
  int mm = 0;
  if (!in.digits(2, hh)) return "the UTC offset must be +HH:MM, +HHMM or +HH";
  if (!in.at_end()) {
    in.expect(':');  // optional: +HH:MM and +HHMM are both accepted
    if (!in.digits(2, mm)) return "the UTC offset must be +HH:MM, +HHMM or +HH";
  }
  if (hh > 23) return "the UTC offset's hours must be 00-23";
  if (mm > 59) return "the UTC offset's minutes must be 00-59";
  const minutes magnitude = hours{hh} + minutes{mm};
  out = sign == '-' ? -magnitude : magnitude;
  return nullptr;
}

// Does the whole parse; returns nullptr on success, else a short reason.
const char* parse_into(std::string_view text, timestamp_fields& out) noexcept {
  if (text.empty()) return "it is empty";
  cursor in(text);
  int y = 0;
  int mo = 0;
  int d = 0;
  if (!in.digits(4, y) || !in.expect('-') || !in.digits(2, mo) || !in.expect('-') ||
      !in.digits(2, d)) {
    return "it does not start with a date YYYY-MM-DD";
  }
  if (mo < 1 || mo > 12) return "the month must be 01-12";
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return "that day does not exist in that month";
  out.wall = date::local_days{ymd};
  out.has_offset = false;
  out.offset = minutes{0};
  if (in.at_end()) return nullptr;  // a date alone: midnight

  if (!in.expect('T') && !in.expect(' ')) return "unexpected text after the date";
  int hh = 0;
  int mi = 0;
  int ss = 0;
  if (!in.digits(2, hh) || !in.expect(':') || !in.digits(2, mi)) {
    return "the time must be HH:MM or HH:MM:SS";
  }
  microseconds fraction{0};
  if (in.expect(':')) {
    if (!in.digits(2, ss)) return "the seconds must be two digits";
    if (in.expect('.') && !in.fraction(fraction)) return "a '.' must be followed by digits";
  }
  if (hh > 23) return "the hour must be 00-23";
  if (mi > 59) return "the minutes must be 00-59";
  if (ss > 59) return "the seconds must be 00-59";
  out.wall += hours{hh} + minutes{mi} + seconds{ss} + fraction;
  if (in.at_end()) return nullptr;

  const char* zone_error = parse_zone(in, out.offset);
  if (zone_error != nullptr) return zone_error;
  if (!in.at_end()) return "unexpected text after the UTC offset";
  out.has_offset = true;
  return nullptr;
}

// Writes `value` as exactly `width` digits ending just before `end`; returns the new end.
char* put_digits(char* end, unsigned value, int width) noexcept {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return end;
}

// Writes "YYYY-MM-DD?HH:MM:SS" for `day` + `time_of_day` into `out[0..19)`, where `out` is
// already sized; years outside 0000-9999 fall back to a longer, slower form.
void put_date_time(std::string& out, date::year_month_day ymd, seconds time_of_day,
                   char separator) {
  const int y = static_cast<int>(ymd.year());
  const auto secs = static_cast<unsigned>(time_of_day.count());
  char* p = out.data();
  put_digits(p + 4, static_cast<unsigned>(y >= 0 ? y : -y) % 10000, 4);
  p[4] = '-';
  put_digits(p + 7, static_cast<unsigned>(ymd.month()), 2);
  p[7] = '-';
  put_digits(p + 10, static_cast<unsigned>(ymd.day()), 2);
  p[10] = separator;
  put_digits(p + 13, secs / 3600, 2);
  p[13] = ':';
  put_digits(p + 16, secs / 60 % 60, 2);
  p[16] = ':';
  put_digits(p + 19, secs % 60, 2);
  if (y < 0 || y > 9999) {
    std::string year = std::to_string(y < 0 ? -y : y);
    if (year.size() < 4) year.insert(0, 4 - year.size(), '0');
    if (y < 0) year.insert(0, 1, '-');
    out.replace(0, 4, year);
  }
}

}  // namespace

expected<timestamp_fields> parse_timestamp_text(std::string_view text) {
  timestamp_fields fields;
  const char* why = parse_into(text, fields);
  if (why != nullptr) return bad_timestamp(text, why);
  return fields;
}

std::string format_wire_text(date::sys_time<microseconds> instant) {
  const auto day = date::floor<date::days>(instant);
  const microseconds since_midnight = instant - day;
  const auto whole = date::floor<seconds>(since_midnight);
  std::string out(27, '\0');
  put_date_time(out, date::year_month_day{day}, whole, 'T');
  const std::size_t base = out.size() - 8;  // the year may have grown
  out[base] = '.';
  put_digits(out.data() + base + 7, static_cast<unsigned>((since_midnight - whole).count()), 6);
  out[base + 7] = 'Z';
  return out;
}

std::string format_db_text(date::local_seconds wall) {
  const auto day = date::floor<date::days>(wall);
  std::string out(19, '\0');
  put_date_time(out, date::year_month_day{day}, wall - day, ' ');
  return out;
}

}  // namespace synccore::time
