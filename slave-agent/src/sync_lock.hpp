// The lock that keeps a `--once` run and the service from syncing the same database at the
// same time: an exclusive flock(2) on "<database>.sync-lock". The kernel drops it when the
// process dies (kill -9 included), so a crashed run never leaves a stale lock behind.
#pragma once

#include <filesystem>
#include <optional>

namespace slave {

class sync_lock {
 public:
  // Tries to take the lock without waiting. Returns nullopt when another process holds it.
  // Throws std::system_error when the lock file cannot be created.
  static std::optional<sync_lock> try_acquire(const std::filesystem::path& database);
  ~sync_lock();
  sync_lock(sync_lock&& other) noexcept;
  sync_lock& operator=(sync_lock&&) = delete;
  sync_lock(const sync_lock&) = delete;
  sync_lock& operator=(const sync_lock&) = delete;

 private:
  explicit sync_lock(int fd) noexcept : fd_(fd) {}
  int fd_;
};

}  // namespace slave
