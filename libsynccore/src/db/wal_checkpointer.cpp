#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/wal_checkpointer.hpp>
#include <synccore/log/logger.hpp>

#include <sqlite3.h>

#include <optional>
#include <string>

namespace synccore::db {

wal_checkpointer::wal_checkpointer(std::filesystem::path database, checkpoint_policy policy)
    : database_(std::move(database)), policy_(policy) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

wal_checkpointer::~wal_checkpointer() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void wal_checkpointer::attach(connection& conn) {
  sqlite3_wal_hook(conn.handle(), &wal_checkpointer::on_commit, this);
}

std::int64_t wal_checkpointer::background_checkpoints() const {
  std::lock_guard lock(mutex_);
  return background_checkpoints_;
}

int wal_checkpointer::on_commit(void* self_pointer, sqlite3* db, const char* schema, int pages) {
  auto* self = static_cast<wal_checkpointer*>(self_pointer);
  if (pages >= self->policy_.backstop_pages) {
    // What SQLite's own autocheckpoint does in this hook. A failure (another checkpoint under
    // way) is no error of the commit, which has already happened.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  {
    std::lock_guard lock(self->mutex_);
    self->wal_pages_ = pages;
    self->last_commit_ = std::chrono::steady_clock::now();
  }
  self->wake_.notify_one();
  return SQLITE_OK;
}

void wal_checkpointer::run(std::stop_token stop) {
  std::optional<connection> conn;
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (!wake_.wait(lock, stop, [&] { return wal_pages_ > 0; })) break;
    // Quiet for `idle`, or the WAL long already: each commit meanwhile moves the time on.
    const auto long_enough = [&] { return wal_pages_ >= policy_.soon_pages; };
    while (!long_enough() && std::chrono::steady_clock::now() < last_commit_ + policy_.idle) {
      wake_.wait_until(lock, stop, last_commit_ + policy_.idle, long_enough);
      if (stop.stop_requested()) return;
    }
    wal_pages_ = 0;
    lock.unlock();
    try {
      if (!conn) conn.emplace(database_, open_options{.create = false});
      const int rc = sqlite3_wal_checkpoint_v2(conn->handle(), nullptr,
                                               SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      // BUSY: another connection (the app's autocheckpoint, a backstop) is checkpointing now.
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) conn->throw_error(rc, "wal checkpoint");
    } catch (const sqlite_error& e) {
      log::log_warning("Background WAL checkpoint failed; the next commit retries it",
                       {{"error", e.what()}});
      conn.reset();
    }
    lock.lock();
    ++background_checkpoints_;
  }
}

}  // namespace synccore::db
