// What a pushed row that SQLite refused with a constraint error (a foreign key pointing
// nowhere, a NOT NULL, UNIQUE or CHECK failure) is told: an input_error naming the row, and the
// column where it can be found, worded for the depot, never SQLite's text (which carries the
// statement's SQL, as the PHP master's answers leaked it). Used by the push apply engine
// (push_apply.cpp) for the 422 it answers. Internal.
#pragma once

#include <synccore/codec/row_codec.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/util/expected.hpp>

#include <cstddef>

namespace synccore::sync::detail {

// Turns a constraint failure of pushed row `index` (decoded as `row`) into a field-named error
// (`data.<index>.<column>` when the column can be told, else `data.<index>`). A foreign key
// failure is explained by looking up which referenced row is missing.
input_error explain_constraint(db::connection& conn, const schema::table_schema& table,
                               const codec::decoded_row& row, std::size_t index,
                               const db::sqlite_error& e);

}  // namespace synccore::sync::detail
