#include <synccore/cron/scheduler.hpp>

#include <optional>

namespace synccore::cron {

void run_schedule(const std::vector<scheduled_job>& jobs, const clock& time_source,
                  const date::time_zone* zone, std::stop_token stop,
                  const scheduler_hooks& hooks) {
  std::vector<std::optional<std::chrono::sys_seconds>> next(jobs.size());
  const auto start = time_source.now();
  for (std::size_t i = 0; i < jobs.size(); ++i) next[i] = jobs[i].schedule.next_fire_after(start, zone);
  while (!stop.stop_requested()) {
    std::optional<std::size_t> due;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (next[i] && (!due || *next[i] < *next[*due])) due = i;
    }
    if (!due) return;  // nothing can ever fire
    if (hooks.on_wait) hooks.on_wait(jobs[*due].name, *next[*due]);
    if (!time_source.sleep_until(*next[*due], stop)) return;
    try {
      jobs[*due].run(stop);
    } catch (const std::exception& e) {
      if (hooks.on_error) hooks.on_error(jobs[*due].name, e.what());
    }
    // The next slot after *now*: slots missed while the job ran or the machine slept are
    // skipped, so an overdue job runs once, not once per missed slot.
    const auto now = time_source.now();
    next[*due] = jobs[*due].schedule.next_fire_after(now, zone);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      // Other jobs that became overdue meanwhile keep one pending run (their slot stays in the
      // past and fires next), never more.
      if (i != *due && next[i] && *next[i] < now) next[i] = now;
    }
  }
}

}  // namespace synccore::cron
