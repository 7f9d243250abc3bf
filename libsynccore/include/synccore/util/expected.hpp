// A minimal "value or validation error" type for input-dependent failures (C++20 has no
// std::expected). Policy, as in Boost.MySQL's http_server example: infrastructure faults
// (disk, SQLite I/O) throw; anything caused by the input (a bad timestamp, an unknown column,
// a bad cron field) returns an `expected` whose error names the offending field and says why.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace synccore {

// What was wrong with an input: `field` names it (a column, a setting, a parameter),
// `message` is one human-readable sentence.
struct input_error {
  std::string field;
  std::string message;
};

template <class T>
class expected {
 public:
  expected(T value) : state_(std::move(value)) {}                 // NOLINT: implicit on purpose
  expected(input_error error) : state_(std::move(error)) {}       // NOLINT: implicit on purpose

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // REQUIRES: has_value().
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const input_error& error() const& { return std::get<1>(state_); }

 private:
  std::variant<T, input_error> state_;
};

}  // namespace synccore
