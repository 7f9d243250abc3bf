// A transaction guard: BEGIN in the constructor, commit() to keep the work, ROLLBACK in the
// destructor otherwise (an exception or an early return never leaves half a change behind).
#pragma once

namespace synccore::db {

class connection;

enum class transaction_mode { deferred, immediate, exclusive };

class transaction {
 public:
  // Begins a transaction. `immediate` takes the write lock now (use it for every write
  // transaction so two writers never deadlock on a lock upgrade). Throws sqlite_error.
  explicit transaction(connection& conn, transaction_mode mode = transaction_mode::immediate);
  // Rolls back unless commit() succeeded. Never throws.
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  // Commits. Throws sqlite_error (the transaction is then rolled back by the destructor).
  void commit();
  bool committed() const noexcept { return committed_; }

 private:
  connection& conn_;
  bool committed_ = false;
};

}  // namespace synccore::db
