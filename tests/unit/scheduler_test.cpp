// Tests of synccore::cron::run_schedule (the slave agent's service loop) driven by
// manual_clock: fire times in jump_to_deadline mode, no overlap of a long job, no burst of runs
// after a long sleep, stop requests, error and wait hooks.
#include <synccore/cron/clock.hpp>
#include <synccore/cron/cron_expression.hpp>
#include <synccore/cron/scheduler.hpp>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using synccore::cron::cron_expression;
using synccore::cron::manual_clock;
using synccore::cron::run_schedule;
using synccore::cron::scheduled_job;
using synccore::cron::scheduler_hooks;
using namespace std::chrono_literals;

namespace {

date::sys_seconds utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const date::time_zone* zone(const char* name) { return date::locate_zone(name); }

cron_expression cron(const std::string& text) {
  auto r = cron_expression::parse(text);
  INFO(text);
  REQUIRE(r.has_value());
  return *r;
}

std::string hm(date::sys_seconds t) { return date::format("%F %R", t); }

// A thread-safe log of "job@YYYY-MM-DD HH:MM" entries (start times, UTC).
class run_log {
 public:
  void add(const std::string& job, date::sys_seconds at) {
    std::lock_guard lock(mutex_);
    entries_.push_back(job + "@" + hm(at));
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

}  // namespace

TEST_CASE("scheduler: jump mode fires each slot of a */15 job in order", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  run_log log;
  std::stop_source stop;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    log.add("run", clock.now());
                    if (log.size() == 5) stop.request_stop();
                  }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(log.entries() == std::vector<std::string>{
                             "run@2026-11-24 10:15", "run@2026-11-24 10:30", "run@2026-11-24 10:45",
                             "run@2026-11-24 11:00", "run@2026-11-24 11:15"});
}

TEST_CASE("scheduler: the next fire is strictly after the start even on a slot boundary",
          "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 15), manual_clock::sleep_mode::jump_to_deadline);
  run_log log;
  std::stop_source stop;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    log.add("run", clock.now());
                    stop.request_stop();
                  }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(log.entries() == std::vector<std::string>{"run@2026-11-24 10:30"});
}

TEST_CASE("scheduler: two jobs interleave by fire time in the app zone", "[scheduler]") {
  // 22:40Z is 23:40 in Lagos (UTC+1): local midnight is 23:00Z.
  manual_clock clock(utc(2026, 11, 24, 22, 40), manual_clock::sleep_mode::jump_to_deadline);
  run_log log;
  std::stop_source stop;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    log.add("run", clock.now());
                    if (log.size() >= 5) stop.request_stop();
                  }});
  jobs.push_back({"company-settings", cron("0 0 * * *"), [&](std::stop_token) {
                    log.add("company-settings", clock.now());
                  }});
  std::vector<std::string> waits;
  scheduler_hooks hooks;
  hooks.on_wait = [&](const std::string& job, std::chrono::sys_seconds when) {
    waits.push_back(job + "@" + hm(when));
  };
  run_schedule(jobs, clock, zone("Africa/Lagos"), stop.get_token(), hooks);
  // At 23:00Z both are due: the run job's slot was computed first and is not later, then the
  // company-settings job runs once, right after.
  const auto entries = log.entries();
  REQUIRE(entries.size() == 5);
  CHECK(entries[0] == "run@2026-11-24 22:45");
  CHECK(entries[1] == "run@2026-11-24 23:00");
  CHECK(entries[2] == "company-settings@2026-11-24 23:00");
  CHECK(entries[3] == "run@2026-11-24 23:15");
  CHECK(entries[4] == "run@2026-11-24 23:30");
  REQUIRE_FALSE(waits.empty());
  CHECK(waits.front() == "run@2026-11-24 22:45");
}

TEST_CASE("scheduler: a 40 minute job on */15 never overlaps and runs again once after it ends",
          "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  std::vector<std::pair<std::string, std::string>> runs;  // (start, end)
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::stop_source stop;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    if (running.fetch_add(1) != 0) ++overlaps;
                    const auto start = clock.now();
                    clock.set(start + 40min);  // the job takes 40 minutes
                    runs.emplace_back(hm(start), hm(clock.now()));
                    running.fetch_sub(1);
                    if (runs.size() == 3) stop.request_stop();
                  }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(overlaps == 0);
  REQUIRE(runs.size() == 3);
  // 10:15-10:55; the 10:30 and 10:45 slots passed during the run and are not replayed: the next
  // run is the first slot after it ended (11:00), and so on.
  CHECK(runs[0] == std::pair<std::string, std::string>{"2026-11-24 10:15", "2026-11-24 10:55"});
  CHECK(runs[1] == std::pair<std::string, std::string>{"2026-11-24 11:00", "2026-11-24 11:40"});
  CHECK(runs[2] == std::pair<std::string, std::string>{"2026-11-24 11:45", "2026-11-24 12:25"});
}

TEST_CASE("scheduler: a long job on a real thread is not started again while it runs",
          "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7));
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    if (running.fetch_add(1) != 0) ++overlaps;
                    ++started;
                    while (!release) std::this_thread::sleep_for(1ms);
                    running.fetch_sub(1);
                  }});
  std::jthread loop([&](std::stop_token token) {
    run_schedule(jobs, clock, zone("Etc/UTC"), token);
  });
  REQUIRE(clock.wait_for_sleepers(1, 5s));
  clock.set(utc(2026, 11, 24, 10, 15));
  // The job started at 10:15 and blocks; the clock moves 40 minutes on, past two more slots.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (started == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(started == 1);
  clock.set(utc(2026, 11, 24, 10, 55));
  std::this_thread::sleep_for(30ms);
  CHECK(started == 1);
  CHECK(clock.sleepers() == 0);  // the loop is inside the job, not waiting for a next slot
  release = true;
  // Back to sleep, once, until the first slot after the job ended.
  REQUIRE(clock.wait_for_sleepers(1, 5s));
  CHECK(started == 1);
  CHECK(clock.last_deadline() == utc(2026, 11, 24, 11, 0));
  loop.request_stop();
  loop.join();
  CHECK(overlaps == 0);
  CHECK(started == 1);
}

TEST_CASE("scheduler: after the clock jumps 5 hours the job runs once not 20 times",
          "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7));
  run_log log;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    log.add("run", clock.now());
                  }});
  std::jthread loop([&](std::stop_token token) {
    run_schedule(jobs, clock, zone("Etc/UTC"), token);
  });
  REQUIRE(clock.wait_for_sleepers(1, 5s));
  CHECK(clock.last_deadline() == utc(2026, 11, 24, 10, 15));
  clock.advance(5h);  // the depot PC slept: 10:07 -> 15:07, twenty slots missed
  // The loop wakes, runs the job once, and sleeps again until the next slot after now.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (clock.last_deadline() != utc(2026, 11, 24, 15, 15) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(clock.wait_for_sleepers(1, 5s));
  CHECK(clock.last_deadline() == utc(2026, 11, 24, 15, 15));
  std::this_thread::sleep_for(30ms);
  CHECK(log.entries() == std::vector<std::string>{"run@2026-11-24 15:07"});
  loop.request_stop();
  loop.join();
  CHECK(log.size() == 1);
}

TEST_CASE("scheduler: in jump mode a 5 hour suspend inside a job gives one run afterwards",
          "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  run_log log;
  std::stop_source stop;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    log.add("run", clock.now());
                    if (log.size() == 1) clock.advance(5h);
                    if (log.size() == 4) stop.request_stop();
                  }});
  jobs.push_back({"company-settings", cron("0 12 * * *"), [&](std::stop_token) {
                    log.add("company-settings", clock.now());
                  }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  // The 12:00 company-settings slot was missed during the suspend: it runs once, right away;
  // the run job resumes at the first slot after 15:15, not at every missed slot.
  CHECK(log.entries() == std::vector<std::string>{"run@2026-11-24 10:15",
                                                  "company-settings@2026-11-24 15:15",
                                                  "run@2026-11-24 15:30",
                                                  "run@2026-11-24 15:45"});
}

TEST_CASE("scheduler: a stop request ends the loop while it sleeps", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7));
  std::atomic<int> runs{0};
  std::atomic<bool> returned{false};
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) { ++runs; }});
  std::stop_source stop;
  std::jthread loop([&](std::stop_token) {
    run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
    returned = true;
  });
  REQUIRE(clock.wait_for_sleepers(1, 5s));
  const auto asked = std::chrono::steady_clock::now();
  stop.request_stop();
  loop.join();
  CHECK(returned);
  CHECK(std::chrono::steady_clock::now() - asked < 2s);
  CHECK(runs == 0);
  CHECK(clock.now() == utc(2026, 11, 24, 10, 7));
}

TEST_CASE("scheduler: a stop during a job lets it finish and runs nothing more", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  std::stop_source stop;
  int runs = 0;
  bool token_seen_stopped = false;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token token) {
                    ++runs;
                    stop.request_stop();
                    token_seen_stopped = token.stop_requested();  // the job is told
                  }});
  jobs.push_back({"other", cron("*/15 * * * *"), [&](std::stop_token) { ++runs; }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(runs == 1);
  CHECK(token_seen_stopped);
}

TEST_CASE("scheduler: an already requested stop returns before any job", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  std::stop_source stop;
  stop.request_stop();
  int runs = 0;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("* * * * *"), [&](std::stop_token) { ++runs; }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(runs == 0);
}

TEST_CASE("scheduler: a throwing job is reported and the loop goes on", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  std::stop_source stop;
  int runs = 0;
  std::vector<std::string> errors;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    if (++runs == 3) stop.request_stop();
                    throw std::runtime_error("master unreachable");
                  }});
  scheduler_hooks hooks;
  hooks.on_error = [&](const std::string& job, const std::string& what) {
    errors.push_back(job + ": " + what);
  };
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token(), hooks);
  CHECK(runs == 3);
  CHECK(errors == std::vector<std::string>(3, "run: master unreachable"));
}

TEST_CASE("scheduler: jobs that can never fire end the loop at once", "[scheduler]") {
  manual_clock clock(utc(2026, 11, 24, 10, 7), manual_clock::sleep_mode::jump_to_deadline);
  std::stop_source stop;
  int runs = 0;
  std::vector<scheduled_job> jobs;
  jobs.push_back({"never", cron("0 0 30 2 *"), [&](std::stop_token) { ++runs; }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(runs == 0);
  CHECK(clock.now() == utc(2026, 11, 24, 10, 7));

  // A job that can fire keeps running beside one that never does.
  jobs.push_back({"run", cron("*/15 * * * *"), [&](std::stop_token) {
                    if (++runs == 2) stop.request_stop();
                  }});
  run_schedule(jobs, clock, zone("Etc/UTC"), stop.get_token());
  CHECK(runs == 2);
}
