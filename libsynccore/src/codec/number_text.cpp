#include "number_text.hpp"

#include <synccore/codec/row_codec.hpp>

#include <charconv>
#include <cmath>
#include <system_error>

namespace synccore::codec::detail {

std::optional<std::int64_t> parse_int64(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  std::int64_t out = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return out;
}

std::optional<std::int64_t> parse_integral_decimal(std::string_view text) noexcept {
  if (!is_plain_decimal(text)) return std::nullopt;
  const auto dot = text.find('.');
  if (dot != std::string_view::npos) {
    for (const char c : text.substr(dot + 1)) {
      if (c != '0') return std::nullopt;
    }
    text = text.substr(0, dot);
  }
  return parse_int64(text);
}

std::optional<double> parse_finite_double(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  double out = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc{} || ptr != end || !std::isfinite(out)) return std::nullopt;
  return out;
}

std::optional<std::int64_t> exact_int64(double value) noexcept {
  // 2^63 is exactly representable; every double below it in magnitude and integral fits.
  constexpr double limit = 9223372036854775808.0;
  if (!(value >= -limit && value < limit)) return std::nullopt;  // also rejects NaN
  if (std::trunc(value) != value) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

bool is_plain_decimal(std::string_view text) noexcept {
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  const std::size_t int_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == int_start) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  const std::size_t frac_start = ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return i == text.size() && i > frac_start;
}

std::string pad_decimals(std::string_view text) {
  std::string out(text);
  const auto dot = out.find('.');
  if (dot == std::string::npos) {
    out += ".00";
  } else if (out.size() - dot - 1 < 2) {
    out.append(2 - (out.size() - dot - 1), '0');
  }
  return out;
}

std::string int64_text(std::int64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

namespace {
// Pads the numeral in out.data to at least two decimals.
void pad_in_place(decimal_text& out) noexcept {
  std::size_t decimals = 0;
  bool dot = false;
  for (std::size_t i = 0; i < out.size; ++i) {
    if (dot) ++decimals;
    if (out.data[i] == '.') dot = true;
  }
  if (!dot) out.data[out.size++] = '.';
  for (; decimals < 2; ++decimals) out.data[out.size++] = '0';
}
}  // namespace

void write_decimal(std::int64_t value, decimal_text& out) noexcept {
  const auto r = std::to_chars(out.data, out.data + sizeof out.data, value);
  out.size = static_cast<std::size_t>(r.ptr - out.data);
  pad_in_place(out);
}

void write_decimal(double value, decimal_text& out) noexcept {
  // Leaves room for the padding; the shortest fixed form of any finite double fits.
  constexpr std::size_t room = sizeof out.data - 3;
  if (value == 0) value = 0;  // no "-0.00"
  const auto r = std::to_chars(out.data, out.data + room, value, std::chars_format::fixed);
  out.size = static_cast<std::size_t>(r.ptr - out.data);
  if (std::isfinite(value)) pad_in_place(out);  // "inf", "-inf", "nan" stay as they are
}

std::string shortest_text(double value) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

}  // namespace synccore::codec::detail

namespace synccore::codec {

std::string format_decimal(double value) {
  detail::decimal_text text;
  detail::write_decimal(value, text);
  return std::string(text.view());
}

}  // namespace synccore::codec
