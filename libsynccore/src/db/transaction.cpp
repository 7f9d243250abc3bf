#include <synccore/db/connection.hpp>
#include <synccore/db/transaction.hpp>

namespace synccore::db {

namespace {
const char* begin_sql(transaction_mode mode) {
  switch (mode) {
    case transaction_mode::deferred: return "BEGIN DEFERRED";
    case transaction_mode::exclusive: return "BEGIN EXCLUSIVE";
    case transaction_mode::immediate: break;
  }
  return "BEGIN IMMEDIATE";
}
}  // namespace

transaction::transaction(connection& conn, transaction_mode mode) : conn_(conn) {
  conn_.execute(begin_sql(mode));
}

transaction::~transaction() {
  if (committed_ || !conn_.in_transaction()) return;
  try {
    conn_.execute("ROLLBACK");
  } catch (...) {
    // A failed rollback leaves nothing to do: SQLite rolls back when the connection closes.
  }
}

void transaction::commit() {
  conn_.execute("COMMIT");
  committed_ = true;
}

}  // namespace synccore::db
