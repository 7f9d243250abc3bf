#include <synccore/cron/clock.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace synccore::cron {

namespace {
// The longest single wait: a wall-clock step is noticed at least this often.
constexpr std::chrono::seconds max_slice{60};
}  // namespace

std::chrono::sys_seconds system_clock_source::now() const {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

bool system_clock_source::sleep_until(std::chrono::sys_seconds deadline,
                                      const std::stop_token& stop) const {
  // A private mutex and condition variable per call: condition_variable_any's stop_token wait
  // wakes on request_stop(), and nothing else ever needs to notify this sleeper.
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    const auto real_now = std::chrono::system_clock::now();
    if (real_now >= deadline) return true;
    const auto slice_end =
        std::min<std::chrono::system_clock::time_point>(deadline, real_now + max_slice);
    wake.wait_until(lock, stop, slice_end, [] { return false; });
  }
  return false;
}

}  // namespace synccore::cron
