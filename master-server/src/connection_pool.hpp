// A fixed set of SQLite connections to the master database, one lent to each handler call
// (handlers run on several worker threads; a connection is used by one thread at a time).
// WAL lets the readers run beside the one writer; writers queue on SQLite's busy timeout.
// Their commits leave the WAL checkpoints to a db::wal_checkpointer, not to the request.
#pragma once

#include <synccore/db/connection.hpp>
#include <synccore/db/wal_checkpointer.hpp>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace master {

class connection_pool {
 public:
  // Opens `size` connections to `path`, attached to `checkpointer` (which must outlive the
  // pool). Throws db::sqlite_error when the file cannot be opened.
  connection_pool(const std::filesystem::path& path, std::size_t size,
                  synccore::db::wal_checkpointer& checkpointer);

  // A borrowed connection, returned to the pool when the lease dies.
  class lease {
   public:
    lease(connection_pool& pool, std::unique_ptr<synccore::db::connection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    ~lease();
    lease(lease&&) = default;
    lease& operator=(lease&&) = delete;
    synccore::db::connection& operator*() const { return *conn_; }
    synccore::db::connection* operator->() const { return conn_.get(); }

   private:
    connection_pool* pool_;
    std::unique_ptr<synccore::db::connection> conn_;
  };

  // Waits for a free connection. Thread-safe.
  lease acquire();

 private:
  void give_back(std::unique_ptr<synccore::db::connection> conn);
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<synccore::db::connection>> free_;
};

}  // namespace master
