// One sync attempt of the slave agent, as both --once and the service perform it: take the
// lock, check (and when needed recover) the database, make sure the bookkeeping tables and
// capture triggers are in place (reinstalling triggers the app's migrations dropped), then run
// the requested jobs and report a per-table summary.
#pragma once

#include "sync_jobs.hpp"

#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

namespace synccore::time {
class app_zone;
}

namespace slave {

enum class job_kind { run, company_settings, all };

struct agent_options {
  std::filesystem::path database;
  master_options master;
  std::string node_id_override;
  bool force = false;           // --force
  bool recover = false;         // --recover: full recovery now
  bool check_database = true;   // detect an empty or corrupted database first
  bool thorough_check = false;  // include PRAGMA quick_check (service start, --force)
  bool show_progress = false;
  std::size_t page_rows = 1000;
};

struct attempt_result {
  exit_code code = exit_ok;
  std::string message;  // the failure, when code != 0
  std::vector<table_summary> tables;
  std::size_t recovered_rows = 0;
  // The database check ran and found the database healthy or recovered it.
  bool database_checked = false;
};

// Performs one attempt. Never throws: every failure is an exit code and a one-line message.
attempt_result run_attempt(const agent_options& options, const synccore::time::app_zone& zone,
                           job_kind job, std::stop_token stop);

// Formats the per-table summary printed after a --once run.
std::string format_summary(const attempt_result& result);

}  // namespace slave
