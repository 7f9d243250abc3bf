// The scheduler's view of time, behind an interface (like leveldb's Env) so tests can run a
// schedule over days in milliseconds: `clock` tells the time and sleeps until a deadline or a
// stop request; `system_clock_source` is the real one; `manual_clock` is a test clock that
// never sleeps on the real clock: its time moves only when told to (set/advance), or, in
// jump mode, straight to whatever deadline a sleeper asks for.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stop_token>

namespace synccore::cron {

class clock {
 public:
  virtual ~clock() = default;

  // The current time, in whole seconds (truncated). Thread-safe.
  virtual std::chrono::sys_seconds now() const = 0;

  // Blocks until now() >= deadline, or until `stop` is requested, whichever comes first.
  // Returns true when the deadline was reached, false when stopped (a stop already requested
  // returns false at once; a deadline already passed returns true at once unless stopped).
  // Thread-safe: several threads may sleep at the same time.
  virtual bool sleep_until(std::chrono::sys_seconds deadline,
                           const std::stop_token& stop) const = 0;
};

// The real clock: std::chrono::system_clock. Sleeps in slices of at most a minute so that a
// wall-clock step (NTP, a depot PC whose clock is fixed by hand) is noticed within a minute.
// Stateless; thread-safe.
class system_clock_source final : public clock {
 public:
  std::chrono::sys_seconds now() const override;
  bool sleep_until(std::chrono::sys_seconds deadline, const std::stop_token& stop) const override;
};

// A clock for tests. Its time starts at `start` and changes only through set() / advance()
// (which wake sleepers whose deadline is reached) or, in sleep_mode::jump_to_deadline, when a
// sleeper asks for a later deadline (the time jumps there and the call returns at once: a
// single-threaded test can run a scheduler loop without another thread). All members are
// thread-safe.
class manual_clock final : public clock {
 public:
  enum class sleep_mode {
    block_until_advanced,  // sleep_until blocks until another thread moves the time or stops
    jump_to_deadline,      // sleep_until moves the time to the deadline and returns true
  };

  explicit manual_clock(std::chrono::sys_seconds start,
                        sleep_mode mode = sleep_mode::block_until_advanced);

  std::chrono::sys_seconds now() const override;
  bool sleep_until(std::chrono::sys_seconds deadline, const std::stop_token& stop) const override;

  // Sets the time (it may move backwards) and wakes sleepers whose deadline is reached.
  void set(std::chrono::sys_seconds time);
  // Moves the time forward by `step` (REQUIRES: step >= 0) and wakes sleepers as set().
  void advance(std::chrono::seconds step);

  // How many threads are blocked in sleep_until right now.
  std::size_t sleepers() const;
  // Waits (on the real clock, at most `timeout`) until at least `count` threads are blocked in
  // sleep_until; returns whether they are. Lets a test advance time only once the thread under
  // test is asleep.
  bool wait_for_sleepers(std::size_t count, std::chrono::milliseconds timeout) const;
  // The deadline passed to the most recent sleep_until call, if any.
  std::optional<std::chrono::sys_seconds> last_deadline() const;

 private:
  const sleep_mode mode_;
  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;  // time moved, a sleeper came or went
  mutable std::chrono::sys_seconds now_;  // mutable: a jump-mode sleep moves it
  mutable std::size_t sleepers_ = 0;
  mutable std::optional<std::chrono::sys_seconds> last_deadline_;
};

}  // namespace synccore::cron
