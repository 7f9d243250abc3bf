// slave-agent: the depot side of ruxx-sync (DESIGN.md section 5). Wiring only: command line
// and configuration, the `status` and `schedule` commands, a single `--once` attempt, or the
// long-running service that runs the jobs on their cron schedules until SIGTERM/SIGINT.
#include "agent.hpp"
#include "capture_repair.hpp"
#include "exit_codes.hpp"

#include <synccore/config/settings.hpp>
#include <synccore/cron/clock.hpp>
#include <synccore/cron/cron_expression.hpp>
#include <synccore/cron/scheduler.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/schema_watch.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>
#include <synccore/version.hpp>

#include <boost/program_options.hpp>
#include <date/tz.h>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace po = boost::program_options;
using namespace slave;

namespace {

const char* help_text =
    "Usage: slave-agent [status | schedule] [options]\n"
    "\n"
    "  slave-agent --once [--job run|company-settings|all] [--force]   sync once and exit\n"
    "  slave-agent --recover                                           rebuild the database now\n"
    "      (pending local changes are pushed first; the old state is kept as <db>.damaged-<time>)\n"
    "  slave-agent                                                     run as a service\n"
    "  slave-agent status                        per table: last sync, pending local changes\n"
    "  slave-agent schedule [--count N]          the next N fire times of each job\n"
    "\n";

const char* exit_code_text =
    "\nExit codes:\n"
    "  0  success\n"
    "  2  usage or configuration error (bad flag, .env, cron expression, missing setting)\n"
    "  3  master unreachable or timed out (also a 5xx answer after the retries)\n"
    "  4  rejected by the master (401 wrong key, other 4xx). A table refused with 400, 409,\n"
    "     413 or 422 does not stop the others, nor a refused row the rows after it; the run\n"
    "     ends with 4 naming the table (a recovery of a readable database pushes the\n"
    "     rest, then stops with 4 and replaces nothing). Also 4: a\n"
    "     master that answers as protocol version 1 after it spoke version 2 (nothing synced)\n"
    "  5  local database error\n"
    "  6  another sync holds the lock\n"
    "A partial failure (some tables synced, one failed) is never 0.\n"
    "Settings: defaults < --env-file < environment < flags; names APP_MODE, MASTER_URL,\n"
    "SYNC_API_KEY, APP_TIMEZONE, DB_DATABASE, SYNC_NODE_ID.\n";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string format_local(std::chrono::sys_seconds t, const date::time_zone* zone) {
  return date::format("%Y-%m-%d %H:%M",
                      date::make_zoned(zone, std::chrono::time_point_cast<std::chrono::minutes>(t)));
}

// A database the agent has not synced yet (the app's fresh file) lacks the bookkeeping tables:
// it has no node id, nothing synced and nothing pending, which is an answer, not an error.
int print_status(const std::filesystem::path& db) {
  synccore::db::connection conn(db, {.read_only = true});
  const bool has_meta = conn.has_table("ruxx_sync_meta");
  const bool has_logs = conn.has_table("sync_logs");
  const bool has_changes = conn.has_table("ruxx_sync_changes");
  std::string node_id = "(not yet)";
  if (has_meta) {
    auto node = conn.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'node_id'");
    if (node.step()) node_id = node.column_string(0);
  }
  std::cout << "database: " << db.string() << "\n";
  std::cout << "node id:  " << node_id << "\n";
  std::printf("%-22s %-20s %8s\n", "table", "last synced", "pending");
  for (const auto& t : synccore::tables::all_tables()) {
    std::string when = "never";
    if (has_logs) {
      auto last = conn.prepare("SELECT last_synced_at FROM sync_logs WHERE table_name = ?");
      last.bind(1, t.name);
      if (last.step() && !last.is_null(0)) when = last.column_string(0);
    }
    long long pending = 0;
    if (has_changes) {
      auto count = conn.prepare("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = ?");
      count.bind(1, t.name);
      count.step();
      pending = count.column_int64(0);
    }
    std::printf("%-22s %-20s %8lld\n", std::string(t.name).c_str(), when.c_str(), pending);
  }
  std::fflush(stdout);
  return exit_ok;
}

synccore::cron::cron_expression parse_cron(const std::string& text, const char* flag) {
  auto parsed = synccore::cron::cron_expression::parse(text);
  if (!parsed) throw usage_error(std::string(flag) + ": " + parsed.error().message);
  return *parsed;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()
      ("db", po::value<std::string>(), "local SQLite database (DB_DATABASE)")
      ("master-url", po::value<std::string>(), "master URL, http:// or https:// (MASTER_URL)")
      ("api-key", po::value<std::string>(), "shared API key (SYNC_API_KEY); prefer the environment")
      ("env-file", po::value<std::string>(), "Laravel-style .env file to read settings from")
      ("ca-file", po::value<std::string>(), "extra CA certificate (PEM) to trust for https://")
      ("log-file", po::value<std::string>(), "also log to this file (size-rotated)")
      ("once", "sync once and exit")
      ("job", po::value<std::string>()->default_value("run"), "with --once: run, company-settings or all")
      ("force", "run even when APP_MODE is not slave; company-settings: sync again; run: also "
                "check and recover the database")
      ("recover", "full recovery from the master now, after pushing the pending local changes "
                  "(exit 3/4 and nothing replaced when that push fails)")
      ("schedule-run", po::value<std::string>()->default_value("*/15 * * * *"),
       "cron schedule of the run job (5 fields, APP_TIMEZONE)")
      ("schedule-company-settings", po::value<std::string>()->default_value("0 0 * * *"),
       "cron schedule of the company-settings job")
      ("count", po::value<unsigned>()->default_value(5), "schedule: how many fire times per job")
      ("retries", po::value<unsigned>()->default_value(4), "attempts per request (connect, 5xx)")
      ("timeout", po::value<unsigned>()->default_value(60), "read timeout per request, seconds")
      ("page-rows", po::value<unsigned>()->default_value(1000), "rows per pulled page")
      ("capture-check-seconds", po::value<unsigned>()->default_value(10),
       "service: put back capture triggers a migration dropped within this time (0: only "
       "before each run)")
      ("help,h", "show this help and exit")
      ("version", "print the version and exit");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>(), "");
  po::positional_options_description positional;
  positional.add("command", 1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "slave-agent: " << e.what() << " (see --help)\n";
    return exit_usage;
  }
  if (vm.count("help")) {
    std::cout << help_text << opts << exit_code_text;
    return exit_ok;
  }
  if (vm.count("version")) {
    std::cout << "slave-agent " << synccore::version_string << "\n";
    return exit_ok;
  }

  // SIGINT/SIGTERM are taken by one thread that asks the work to stop after its current step.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source stop;

  try {
    const std::string command = vm.count("command") ? vm["command"].as<std::string>() : "";
    if (!command.empty() && command != "status" && command != "schedule") {
      throw usage_error("unknown command \"" + command + "\" (status or schedule)");
    }
    synccore::config::env_map flags;
    if (vm.count("api-key")) flags["SYNC_API_KEY"] = vm["api-key"].as<std::string>();
    if (vm.count("db")) flags["DB_DATABASE"] = vm["db"].as<std::string>();
    if (vm.count("master-url")) flags["MASTER_URL"] = vm["master-url"].as<std::string>();
    std::optional<std::filesystem::path> env_file;
    if (vm.count("env-file")) env_file = vm["env-file"].as<std::string>();
    auto settings = synccore::config::load_settings(
        env_file, synccore::config::snapshot_environment(environ), flags);
    if (!settings) throw usage_error(settings.error().message);
    const synccore::time::app_zone zone(settings->app_timezone);
    const auto run_schedule = parse_cron(vm["schedule-run"].as<std::string>(), "--schedule-run");
    const auto settings_schedule = parse_cron(vm["schedule-company-settings"].as<std::string>(),
                                              "--schedule-company-settings");

    if (command == "schedule") {
      const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      const auto count = vm["count"].as<unsigned>();
      for (const auto& [name, expr] : {std::pair{"run", run_schedule},
                                       std::pair{"company-settings", settings_schedule}}) {
        for (auto t : expr.next_fire_times(now, zone.zone(), count)) {
          std::cout << name << " " << format_local(t, zone.zone()) << "\n";
        }
      }
      return exit_ok;
    }
    if (settings->db_database.empty()) throw usage_error("no database: give --db PATH or DB_DATABASE");
    if (command == "status") return print_status(settings->db_database);

    const bool force = vm.count("force") > 0;
    if (settings->app_mode != synccore::config::app_mode_kind::slave && !force) {
      throw usage_error("APP_MODE is not slave (it is " +
                        std::string(synccore::config::to_string(settings->app_mode)) +
                        "): refusing to sync; use --force to override");
    }
    if (settings->master_url.empty()) throw usage_error("no master: give --master-url or MASTER_URL");
    if (settings->api_key.empty()) throw usage_error("no API key: set SYNC_API_KEY or --api-key");
    const std::string job_text = vm["job"].as<std::string>();
    job_kind job = job_kind::run;
    if (job_text == "company-settings") job = job_kind::company_settings;
    else if (job_text == "all") job = job_kind::all;
    else if (job_text != "run") throw usage_error("--job must be run, company-settings or all");

    synccore::log::log_options log_options;
    log_options.time_zone = settings->app_timezone;
    log_options.secrets = {settings->api_key};
    if (vm.count("log-file")) log_options.file = vm["log-file"].as<std::string>();
    synccore::log::log_session log_session;
    try {
      log_session = synccore::log::setup_logging(log_options);
    } catch (const std::exception& e) {
      throw usage_error(std::string("--log-file: ") + e.what());
    }

    agent_options agent;
    agent.database = settings->db_database;
    agent.master.url = settings->master_url;
    agent.master.api_key = settings->api_key;
    if (vm.count("ca-file")) agent.master.ca_file = vm["ca-file"].as<std::string>();
    agent.master.retry.max_attempts = static_cast<int>(std::max(1u, vm["retries"].as<unsigned>()));
    agent.master.read_timeout = std::chrono::seconds(vm["timeout"].as<unsigned>());
    agent.node_id_override = settings->node_id;
    agent.master.node_id = settings->node_id;
    agent.force = force;
    agent.recover = vm.count("recover") > 0;
    agent.show_progress = isatty(STDERR_FILENO) == 1;
    agent.page_rows = std::max(1u, vm["page-rows"].as<unsigned>());
    if (agent.master.node_id.empty()) {
      // Every request carries the node id: read (or create) it before talking to the master.
      try {
        synccore::db::connection probe(agent.database, {.create = false});
        auto st = probe.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'node_id'");
        if (st.step()) agent.master.node_id = st.column_string(0);
      } catch (const std::exception&) {
      }
    }

    std::jthread signal_thread([&signals, &stop](std::stop_token) {
      int received = 0;
      if (sigwait(&signals, &received) == 0 && !stop.stop_requested()) {
        synccore::log::log_notice("Signal received: finishing the current step",
                                  {{"signal", received}});
      }
      stop.request_stop();
    });
    auto finish = [&](int code) {
      // Wake the signal thread so it can be joined.
      if (!stop.stop_requested()) {
        stop.request_stop();
        pthread_kill(signal_thread.native_handle(), SIGTERM);
      }
      return code;
    };

    if (vm.count("once") || agent.recover) {
      agent.check_database = true;
      const auto result = run_attempt(agent, zone, agent.recover && !vm.count("once") ? job_kind::run : job,
                                      stop.get_token());
      // A partial failure still shows what the tables that went through did.
      if (result.code == exit_ok || !result.tables.empty()) {
        std::cout << format_summary(result) << std::flush;
      }
      if (result.code != exit_ok) std::cerr << "slave-agent: " << result.message << "\n";
      return finish(result.code);
    }

    // Service mode: check the database once at start, then the schedules.
    synccore::log::log_info("slave-agent " + std::string(synccore::version_string) +
                            " started as a service",
                            {{"run", run_schedule.text()}, {"company_settings", settings_schedule.text()}});
    std::vector<synccore::cron::scheduled_job> jobs;
    bool first = true;
    auto attempt = [&](job_kind kind) {
      return [&, kind](std::stop_token token) {
        auto a = agent;
        a.check_database = first;
        first = false;
        const auto r = run_attempt(a, zone, kind, token);
        if (r.code == exit_locked) synccore::log::log_notice("Skipped: " + r.message);
      };
    };
    synccore::cron::system_clock_source clock;
    {
      // The start-up check (thorough) and a first sync happen right away, not at the first
      // slot. Until the check passes or a recovery completes the schedules do not start (a run
      // would sync onto a database that needs recovery): it is retried, the wait doubling from
      // 5 s to 5 min; SIGTERM ends the wait at once.
      auto backoff = std::chrono::seconds(5);
      for (;;) {
        auto a = agent;
        a.check_database = true;
        a.thorough_check = true;
        const auto r = run_attempt(a, zone, job_kind::all, stop.get_token());
        if (r.database_checked || stop.stop_requested()) break;
        synccore::log::log_warning("The database check or recovery did not complete; retrying in " +
                                       std::to_string(backoff.count()) + " s",
                                   {{"exit_code", r.code}});
        if (!clock.sleep_until(clock.now() + backoff, stop.get_token())) break;
        backoff = std::min<std::chrono::seconds>(backoff * 2, std::chrono::minutes(5));
      }
      first = false;
    }
    // Between runs, a migration of the depot app that rebuilds a table drops its capture
    // triggers; the app's deletes until they are back would never reach the master.
    const synccore::db::schema_watch capture_watch(
        agent.database, std::chrono::seconds(vm["capture-check-seconds"].as<unsigned>()),
        "check the change capture triggers",
        [](synccore::db::connection& conn) {
          // A database still to be recovered is the next run's business.
          if (synccore::schema::has_all_synced_tables(conn)) repair_capture(conn);
        });
    jobs.push_back({"run", run_schedule, attempt(job_kind::run)});
    jobs.push_back({"company-settings", settings_schedule, attempt(job_kind::company_settings)});
    synccore::cron::scheduler_hooks hooks;
    hooks.on_error = [](const std::string& name, const std::string& what) {
      synccore::log::log_error("Job " + name + " failed: " + what);
    };
    synccore::cron::run_schedule(jobs, clock, zone.zone(), stop.get_token(), hooks);
    synccore::log::log_info("slave-agent stopped");
    return finish(exit_ok);
  } catch (const usage_error& e) {
    std::cerr << "slave-agent: " << e.what() << "\n";
    return exit_usage;
  } catch (const synccore::db::sqlite_error& e) {
    std::cerr << "slave-agent: local database: " << e.what() << "\n";
    return exit_local_db;
  } catch (const std::exception& e) {
    std::cerr << "slave-agent: " << e.what() << "\n";
    return exit_usage;
  }
}
