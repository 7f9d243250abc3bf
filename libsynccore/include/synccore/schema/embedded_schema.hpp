// The SQL text of schema/ compiled into the library: app_tables_sql() is the Laravel app's
// tables exactly as the real app creates them, sync_tables_sql() the sync bookkeeping tables.
// Installed binaries therefore create a working database without any data directory.
#pragma once

#include <string_view>

namespace synccore::schema {

// Returns the app tables' DDL (schema/app_tables.sql), verbatim.
std::string_view app_tables_sql() noexcept;

// Returns the bookkeeping tables' DDL (schema/sync_tables.sql), verbatim.
std::string_view sync_tables_sql() noexcept;

}  // namespace synccore::schema
