#include <synccore/log/rotating_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

namespace synccore::log {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

rotating_file::rotating_file(std::filesystem::path path, rotation_policy policy)
    : path_(std::move(path)), policy_(policy) {
  open();
}

rotating_file::~rotating_file() { close(); }

void rotating_file::open() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno(errno, "cannot open log file \"" + path_.string() + "\"");
  fd_ = fd;
}

void rotating_file::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::filesystem::path rotating_file::numbered(unsigned n) const {
  std::filesystem::path p = path_;
  p += "." + std::to_string(n);
  return p;
}

void rotating_file::rotate() {
  close();
  if (policy_.max_files == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      throw_errno(errno, "cannot remove log file \"" + path_.string() + "\"");
    }
  } else {
    const auto oldest = numbered(policy_.max_files);
    if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) {
      throw_errno(errno, "cannot remove old log file \"" + oldest.string() + "\"");
    }
    for (unsigned n = policy_.max_files; n > 1; --n) {
      const auto from = numbered(n - 1);
      const auto to = numbered(n);
      if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        throw_errno(errno, "cannot rename log file \"" + from.string() + "\"");
      }
    }
    const auto first = numbered(1);
    if (std::rename(path_.c_str(), first.c_str()) != 0 && errno != ENOENT) {
      throw_errno(errno, "cannot rename log file \"" + path_.string() + "\"");
    }
  }
  open();
}

void rotating_file::write_line(std::string_view line) {
  // Reopen when PATH is no longer the file we hold (rotated or deleted by someone else).
  struct stat held {};
  struct stat named {};
  if (fd_ < 0 || ::fstat(fd_, &held) != 0 || ::stat(path_.c_str(), &named) != 0 ||
      held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
    close();
    open();
    if (::fstat(fd_, &held) != 0) {
      throw_errno(errno, "cannot stat log file \"" + path_.string() + "\"");
    }
  }

  std::string buffer;
  buffer.reserve(line.size() + 1);
  buffer.append(line);
  buffer += '\n';

  const auto size = static_cast<std::uintmax_t>(held.st_size);
  if (size > 0 && size + buffer.size() > policy_.max_size) rotate();

  std::size_t written = 0;
  while (written < buffer.size()) {
    const ssize_t n = ::write(fd_, buffer.data() + written, buffer.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "cannot write log file \"" + path_.string() + "\"");
    }
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace synccore::log
