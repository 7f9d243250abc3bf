#include <synccore/cron/clock.hpp>

namespace synccore::cron {

manual_clock::manual_clock(std::chrono::sys_seconds start, sleep_mode mode)
    : mode_(mode), now_(start) {}

std::chrono::sys_seconds manual_clock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

bool manual_clock::sleep_until(std::chrono::sys_seconds deadline,
                               const std::stop_token& stop) const {
  std::unique_lock lock(mutex_);
  last_deadline_ = deadline;
  if (stop.stop_requested()) return false;
  if (mode_ == sleep_mode::jump_to_deadline) {
    if (deadline > now_) {
      now_ = deadline;
      changed_.notify_all();
    }
    return true;
  }
  ++sleepers_;
  changed_.notify_all();
  const bool reached = changed_.wait(lock, stop, [&] { return now_ >= deadline; });
  --sleepers_;
  changed_.notify_all();
  return reached;
}

void manual_clock::set(std::chrono::sys_seconds time) {
  {
    std::lock_guard lock(mutex_);
    now_ = time;
  }
  changed_.notify_all();
}

void manual_clock::advance(std::chrono::seconds step) {
  {
    std::lock_guard lock(mutex_);
    now_ += step;
  }
  changed_.notify_all();
}

std::size_t manual_clock::sleepers() const {
  std::lock_guard lock(mutex_);
  return sleepers_;
}

bool manual_clock::wait_for_sleepers(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return sleepers_ >= count; });
}

std::optional<std::chrono::sys_seconds> manual_clock::last_deadline() const {
  std::lock_guard lock(mutex_);
  return last_deadline_;
}

}  // namespace synccore::cron
