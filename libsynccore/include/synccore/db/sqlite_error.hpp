// The exception every SQLite failure becomes: it carries SQLite's extended result code and
// message (plus what we were doing), so a caller can tell "busy" from "constraint" from
// "corrupt" without parsing text. Infrastructure faults throw this; input-dependent outcomes
// are reported as values by the layers above.
#pragma once

#include <stdexcept>
#include <string>

namespace synccore::db {

class sqlite_error : public std::runtime_error {
 public:
  // REQUIRES: extended_code is an SQLite extended result code (SQLITE_CONSTRAINT_UNIQUE, ...).
  sqlite_error(int extended_code, const std::string& message);

  // Returns the extended result code, e.g. SQLITE_CONSTRAINT_FOREIGNKEY (787).
  int extended_code() const noexcept { return extended_code_; }
  // Returns the primary result code (the low byte), e.g. SQLITE_CONSTRAINT (19).
  int primary_code() const noexcept { return extended_code_ & 0xff; }

  bool is_constraint() const noexcept;
  bool is_busy() const noexcept;
  bool is_corrupt() const noexcept;

 private:
  int extended_code_;
};

}  // namespace synccore::db
