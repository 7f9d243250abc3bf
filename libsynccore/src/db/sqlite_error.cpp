#include <synccore/db/sqlite_error.hpp>

#include <sqlite3.h>

namespace synccore::db {

sqlite_error::sqlite_error(int extended_code, const std::string& message)
    : std::runtime_error(message), extended_code_(extended_code) {}

bool sqlite_error::is_constraint() const noexcept { return primary_code() == SQLITE_CONSTRAINT; }
bool sqlite_error::is_busy() const noexcept {
  return primary_code() == SQLITE_BUSY || primary_code() == SQLITE_LOCKED;
}
bool sqlite_error::is_corrupt() const noexcept {
  return primary_code() == SQLITE_CORRUPT || primary_code() == SQLITE_NOTADB;
}

}  // namespace synccore::db
