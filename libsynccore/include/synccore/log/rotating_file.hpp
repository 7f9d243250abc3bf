// A log file with size-based rotation, in the logrotate naming: the live file is PATH, older
// ones are PATH.1 (newest) ... PATH.<max_files> (oldest); the oldest is deleted when a new one
// is made. The file is opened for appending (a restart continues the same file and counts its
// current size), every line is written with one write(2) on an O_APPEND descriptor, and the
// file is reopened when someone else renamed or deleted PATH (another process rotating it, or
// logrotate), so lines never go into a file nobody looks at. Not thread-safe: the logging sink
// serialises calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace synccore::log {

struct rotation_policy {
  // Rotate before a write would make the live file larger than this many bytes. A single line
  // longer than this is still written whole, alone in its file. Default: 10 MiB.
  std::uintmax_t max_size = 10 * 1024 * 1024;
  // How many rotated files are kept besides the live one (0: the live file is truncated
  // instead). Default: 5.
  unsigned max_files = 5;
};

class rotating_file {
 public:
  // Opens (creating with mode 0644 when missing) `path` for appending.
  // Throws std::system_error naming the path when it cannot be opened.
  rotating_file(std::filesystem::path path, rotation_policy policy);
  ~rotating_file();
  rotating_file(const rotating_file&) = delete;
  rotating_file& operator=(const rotating_file&) = delete;

  // Appends `line` and a '\n', rotating first when needed. Throws std::system_error on an I/O
  // failure (disk full, a rename refused).
  void write_line(std::string_view line);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void open();
  void close() noexcept;
  void rotate();
  std::filesystem::path numbered(unsigned n) const;

  std::filesystem::path path_;
  rotation_policy policy_;
  int fd_ = -1;
};

}  // namespace synccore::log
