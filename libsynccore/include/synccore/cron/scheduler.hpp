// The service loop of the slave agent: runs named jobs on their cron schedules in the app time
// zone, one at a time (a job never overlaps itself or another), and after a long sleep or a
// clock jump runs each overdue job once, not once per missed slot. Time comes from a
// synccore::cron::clock so tests drive it with manual_clock; stopping is a std::stop_token.
#pragma once

#include <synccore/cron/clock.hpp>
#include <synccore/cron/cron_expression.hpp>

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

namespace synccore::cron {

struct scheduled_job {
  std::string name;
  cron_expression schedule;
  // Runs the job. Exceptions are caught and reported to `on_error`; the loop goes on.
  std::function<void(std::stop_token)> run;
};

struct scheduler_hooks {
  // Called when a job threw; default: ignored.
  std::function<void(const std::string& job, const std::string& what)> on_error;
  // Called before sleeping until `when` for `job`; default: nothing.
  std::function<void(const std::string& job, std::chrono::sys_seconds when)> on_wait;
};

// Runs until `stop` is requested (returns after the job in progress finishes). Jobs whose
// schedules can never fire are ignored. REQUIRES: zone != nullptr.
void run_schedule(const std::vector<scheduled_job>& jobs, const clock& time_source,
                  const date::time_zone* zone, std::stop_token stop,
                  const scheduler_hooks& hooks = {});

}  // namespace synccore::cron
