#include "sync_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <system_error>
#include <unistd.h>

namespace slave {

std::optional<sync_lock> sync_lock::try_acquire(const std::filesystem::path& database) {
  const auto path = database.string() + ".sync-lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::nullopt;
    throw std::system_error(err, std::generic_category(), "cannot lock " + path);
  }
  return sync_lock(fd);
}

sync_lock::~sync_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

sync_lock::sync_lock(sync_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

}  // namespace slave
