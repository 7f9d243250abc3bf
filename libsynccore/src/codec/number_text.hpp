// Internal to the codec: allocation-light number <-> text helpers built on std::to_chars and
// std::from_chars (no iostreams, no locale), shared by the encoder, the decoder and
// format_decimal. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synccore::codec::detail {

// Parses the whole of `text` as a base-10 int64 ("-12", "500"); no sign '+', no spaces.
std::optional<std::int64_t> parse_int64(std::string_view text) noexcept;

// Parses a plain decimal numeral whose fraction is absent or all zeros ("500", "-12.00") as an
// exact int64; nullopt for anything else or when out of range.
std::optional<std::int64_t> parse_integral_decimal(std::string_view text) noexcept;

// Parses the whole of `text` as a finite double ("500.00", "-0.125", "1e3"); no '+', no
// spaces, no "inf"/"nan".
std::optional<double> parse_finite_double(std::string_view text) noexcept;

// Returns `value` as int64 when it is integral and within the int64 range, else nullopt.
std::optional<std::int64_t> exact_int64(double value) noexcept;

// True when `text` is a plain decimal numeral: an optional '-', digits, optionally '.' and
// digits ("500", "-12.5", "0.125").
bool is_plain_decimal(std::string_view text) noexcept;

// Appends zeros so that the plain decimal numeral `text` has at least two decimals
// ("500" -> "500.00", "0.1" -> "0.10", "0.125" stays). REQUIRES: is_plain_decimal(text).
std::string pad_decimals(std::string_view text);

// A decimal's wire text built on the stack (no allocation): big enough for any double in fixed
// notation (DBL_MAX has 309 digits, denorm_min 324 decimals) plus padding.
struct decimal_text {
  char data[400];
  std::size_t size = 0;
  std::string_view view() const noexcept { return {data, size}; }
};

// Writes format_decimal(value) into `out`.
void write_decimal(double value, decimal_text& out) noexcept;
// Writes an integer with two decimals (500 -> "500.00") into `out`.
void write_decimal(std::int64_t value, decimal_text& out) noexcept;

// The shortest text that reads back as the same value (12.5 -> "12.5", 3.0 -> "3").
std::string shortest_text(double value);
std::string int64_text(std::int64_t value);

}  // namespace synccore::codec::detail
