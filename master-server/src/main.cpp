// master-server: the HTTP(S) sync API over the master database (DESIGN.md sections 3-5).
// Wiring only: command line and configuration, start-up checks and refusals (exit 2), schema
// and change capture, then the server until SIGINT/SIGTERM (exit 0).
#include "capture_watch.hpp"
#include "connection_pool.hpp"
#include "sync_routes.hpp"

#include <synccore/config/settings.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/wal_checkpointer.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/net/http_server.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/time/app_zone.hpp>
#include <synccore/version.hpp>

#include <boost/program_options.hpp>

#include <charconv>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <signal.h>

extern char** environ;

namespace po = boost::program_options;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_usage = 2;

struct refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw refusal("--listen must be HOST:PORT, got \"" + text + "\"");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto p = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535) {
    throw refusal("--listen port must be 0-65535, got \"" + p + "\"");
  }
  return {host, static_cast<std::uint16_t>(port)};
}

void check_database_path(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw refusal("no database: give --db PATH or DB_DATABASE");
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (fs::is_directory(path, ec)) throw refusal("database " + path.string() + " is a directory");
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw refusal("database " + path.string() + " is not readable");
    return;
  }
  const auto dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw refusal("database directory " + dir.string() + " does not exist");
  }
}

const char* help_epilogue =
    "\nConfiguration precedence: defaults < --env-file < environment < flags.\n"
    "Environment/.env names: APP_MODE, SYNC_API_KEY, APP_TIMEZONE, DB_DATABASE.\n"
    "Prints `listening on HOST:PORT` once it accepts connections; SIGINT/SIGTERM stop\n"
    "accepting, finish in-flight requests and exit 0.\n"
    "Exit codes: 0 clean shutdown; 2 usage or configuration error, or refused to start\n"
    "(no API key, unreadable database, APP_MODE=slave without --force); 1 unexpected failure.\n";

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("master-server options");
  opts.add_options()
      ("db", po::value<std::string>(), "master SQLite database (DB_DATABASE)")
      ("listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
       "address to listen on, HOST:PORT (port 0 picks a free port)")
      ("api-key", po::value<std::string>(), "shared API key (SYNC_API_KEY); prefer the environment")
      ("env-file", po::value<std::string>(), "Laravel-style .env file to read settings from")
      ("threads", po::value<unsigned>()->default_value(2), "worker threads for requests")
      ("io-threads", po::value<unsigned>()->default_value(2), "threads for socket I/O")
      ("tls-cert", po::value<std::string>(), "PEM certificate chain: serve HTTPS")
      ("tls-key", po::value<std::string>(), "PEM private key for --tls-cert")
      ("max-body-mib", po::value<unsigned>()->default_value(32), "largest request body in MiB")
      ("max-connections", po::value<unsigned>()->default_value(512),
       "open connections at most; past it new ones wait until one closes")
      ("header-timeout", po::value<unsigned>()->default_value(15),
       "seconds a client may take to send its request headers")
      ("log-file", po::value<std::string>(), "also log to this file (size-rotated)")
      ("capture-check-seconds", po::value<unsigned>()->default_value(30),
       "how often to check that the change capture triggers survived the app's migrations "
       "(0: only at start)")
      ("force", "start even when APP_MODE is slave")
      ("help,h", "show this help and exit")
      ("version", "print the version and exit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "master-server: " << e.what() << " (see --help)\n";
    return exit_usage;
  }
  if (vm.count("help")) {
    std::cout << "Usage: master-server [options]\n\n" << opts << help_epilogue;
    return exit_ok;
  }
  if (vm.count("version")) {
    std::cout << "master-server " << synccore::version_string << "\n";
    return exit_ok;
  }

  namespace slog = synccore::log;
  try {
    synccore::config::env_map flags;
    if (vm.count("api-key")) flags["SYNC_API_KEY"] = vm["api-key"].as<std::string>();
    if (vm.count("db")) flags["DB_DATABASE"] = vm["db"].as<std::string>();
    std::optional<std::filesystem::path> env_file;
    if (vm.count("env-file")) env_file = vm["env-file"].as<std::string>();
    auto settings = synccore::config::load_settings(
        env_file, synccore::config::snapshot_environment(environ), flags);
    if (!settings) throw refusal(settings.error().message);
    if (settings->api_key.empty()) {
      throw refusal("no API key: set SYNC_API_KEY (environment or .env) or --api-key");
    }
    if (settings->app_mode == synccore::config::app_mode_kind::slave && !vm.count("force")) {
      throw refusal("APP_MODE is slave: refusing to run a master here (use --force to override)");
    }
    if (vm["max-connections"].as<unsigned>() == 0) {
      throw refusal("--max-connections must be at least 1");
    }
    if (vm.count("tls-cert") != vm.count("tls-key")) {
      throw refusal("--tls-cert and --tls-key must be given together");
    }
    const auto [host, port] = parse_listen(vm["listen"].as<std::string>());
    check_database_path(settings->db_database);
    const synccore::time::app_zone zone(settings->app_timezone);
    slog::log_options log_options;
    log_options.time_zone = settings->app_timezone;
    log_options.secrets = {settings->api_key};
    if (vm.count("log-file")) log_options.file = vm["log-file"].as<std::string>();
    const auto log_session = slog::setup_logging(log_options);

    {
      synccore::db::connection setup(settings->db_database);
      const bool created = synccore::schema::ensure_app_tables(setup);
      const int version_before = synccore::schema::read_sync_schema_version(setup);
      synccore::schema::ensure_sync_tables(setup);
      // Missing triggers (a new database, or a migration that rebuilt a table while the server
      // was down: then the table's rows are logged again) or outdated ones (an older ruxx-sync).
      const bool had_capture = version_before > 0;
      master::log_capture_repair(synccore::sync::repair_master_capture(setup, had_capture),
                                 had_capture);
      if (created) slog::log_info("Created the app tables in " + settings->db_database.string());
    }
    const unsigned threads = std::max(1u, vm["threads"].as<unsigned>());
    // SIGINT/SIGTERM are blocked before any thread of ours exists (the checkpointer's, the
    // server's, the capture watch's: they inherit the mask) and taken with sigwait() below, so
    // a signal sent as soon as `listening on` is printed waits as pending instead of killing
    // the process with the default action (exit -15, no graceful stop).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // Declared before the pool: its connections' commits report to it until they close.
    synccore::db::wal_checkpointer checkpointer(settings->db_database);
    master::connection_pool pool(settings->db_database, threads, checkpointer);
    master::sync_routes routes(pool, zone, {settings->api_key});
    synccore::net::server_options options;
    options.host = host;
    options.port = port;
    options.worker_threads = threads;
    options.io_threads = std::max(1u, vm["io-threads"].as<unsigned>());
    options.body_limit = std::size_t{vm["max-body-mib"].as<unsigned>()} * 1024 * 1024;
    options.max_connections = vm["max-connections"].as<unsigned>();
    options.header_timeout = std::chrono::seconds(vm["header-timeout"].as<unsigned>());
    if (vm.count("tls-cert")) {
      options.tls = synccore::net::tls_files{vm["tls-cert"].as<std::string>(),
                                             vm["tls-key"].as<std::string>()};
    }
    options.log = [](synccore::net::log_level level, std::string_view message) {
      using synccore::net::log_level;
      const auto mapped = level == log_level::error     ? slog::log_level::error
                          : level == log_level::warning ? slog::log_level::warning
                          : level == log_level::debug   ? slog::log_level::debug
                                                        : slog::log_level::info;
      slog::log_message(mapped, message);
    };
    synccore::net::http_server server(options, [&](const synccore::net::http_request& request) {
      return routes.handle(request);
    });
    synccore::net::listen_endpoint endpoint;
    try {
      endpoint = server.start();
    } catch (const std::exception& e) {
      throw refusal(e.what());
    }
    const auto capture_watch = master::watch_capture(
        settings->db_database, std::chrono::seconds(vm["capture-check-seconds"].as<unsigned>()));
    std::cout << "listening on " << endpoint.to_string() << std::endl;
    slog::log_info("master-server " + std::string(synccore::version_string) + " listening on " +
                   endpoint.to_string());
    int signal = 0;
    while (sigwait(&stop_signals, &signal) != 0) {
    }
    slog::log_info("signal " + std::to_string(signal) + " received, shutting down");
    server.stop();  // graceful: in-flight requests finish
    slog::log_info("master-server stopped", {{"signal", signal}});
    return exit_ok;
  } catch (const refusal& e) {
    std::cerr << "master-server: " << e.what() << "\n";
    return exit_usage;
  } catch (const synccore::db::sqlite_error& e) {
    std::cerr << "master-server: database error: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "master-server: " << e.what() << "\n";
    return 1;
  }
}
