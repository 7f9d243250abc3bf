#include <synccore/log/line_format.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/log/redactor.hpp>
#include <synccore/log/rotating_file.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <date/date.h>
#include <date/tz.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

using namespace synccore::log;
namespace fs = std::filesystem;

namespace {

using sys_clock = std::chrono::system_clock;

// 2024-01-01 11:00:00 UTC, which is 12:00:00 in Africa/Lagos (UTC+1, no DST).
sys_clock::time_point fixed_time() {
  return date::sys_days{date::year{2024} / 1 / 1} + std::chrono::hours{11};
}

// Collects the lines a session emits (thread-safe).
class captured_lines {
 public:
  std::function<void(std::string_view)> observer() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

log_options quiet_options(captured_lines& out) {
  log_options o;
  o.to_stderr = false;
  o.line_observer = out.observer();
  o.clock = fixed_time;
  return o;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("log: the design's example line is reproduced exactly", "[log]") {
  const auto* lagos = date::locate_zone("Africa/Lagos");
  boost::json::object context{{"count", 12}};
  CHECK(format_log_line(lagos, "local", fixed_time(), log_level::info,
                        "Successfully synced inventory", context_to_json(context)) ==
        "[2024-01-01 12:00:00] local.INFO: Successfully synced inventory {\"count\":12}");

  captured_lines out;
  auto session = setup_logging(quiet_options(out));
  log_info("Successfully synced inventory", {{"count", 12}});
  REQUIRE(out.lines().size() == 1);
  CHECK(out.lines()[0] ==
        "[2024-01-01 12:00:00] local.INFO: Successfully synced inventory {\"count\":12}");
}

TEST_CASE("log: no context means nothing after the message", "[log]") {
  captured_lines out;
  auto session = setup_logging(quiet_options(out));
  log_warning("Master unreachable");
  REQUIRE(out.lines().size() == 1);
  CHECK(out.lines()[0] == "[2024-01-01 12:00:00] local.WARNING: Master unreachable");
}

TEST_CASE("log: time is wall time in the configured zone, truncated to seconds", "[log]") {
  const auto* kathmandu = date::locate_zone("Asia/Kathmandu");  // UTC+05:45
  CHECK(format_log_line(kathmandu, "local", fixed_time() + std::chrono::milliseconds{999},
                        log_level::info, "m", "") == "[2024-01-01 16:45:00] local.INFO: m");
  const auto* london = date::locate_zone("Europe/London");  // DST in summer
  const auto summer = date::sys_days{date::year{2024} / 7 / 1} + std::chrono::hours{11};
  CHECK(format_log_line(london, "local", summer, log_level::info, "m", "") ==
        "[2024-07-01 12:00:00] local.INFO: m");
}

TEST_CASE("log: the real clock is used when none is injected", "[log]") {
  captured_lines out;
  log_options o;
  o.to_stderr = false;
  o.line_observer = out.observer();
  o.time_zone = "Asia/Kathmandu";
  const auto* zone = date::locate_zone("Asia/Kathmandu");
  auto session = setup_logging(o);
  auto wall_now = [zone] {
    const auto seconds = date::floor<std::chrono::seconds>(sys_clock::now());
    return date::format("%Y-%m-%d %H:%M:%S", date::make_zoned(zone, seconds));
  };
  const auto before = wall_now();
  log_info("now");
  const auto after = wall_now();
  REQUIRE(out.lines().size() == 1);
  const std::string line = out.lines()[0];
  const std::regex shape(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] local\.INFO: now)");
  REQUIRE(std::regex_match(line, shape));
  const std::string stamp = line.substr(1, 19);
  CHECK(stamp >= before);
  CHECK(stamp <= after);
}

TEST_CASE("log: level names are Monolog's and the channel is configurable", "[log]") {
  captured_lines out;
  auto o = quiet_options(out);
  o.min_level = log_level::debug;
  o.environment = "production";
  auto session = setup_logging(o);
  log_debug("d");
  log_info("i");
  log_notice("n");
  log_warning("w");
  log_error("e");
  log_critical("c");
  const auto lines = out.lines();
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "[2024-01-01 12:00:00] production.DEBUG: d");
  CHECK(lines[1] == "[2024-01-01 12:00:00] production.INFO: i");
  CHECK(lines[2] == "[2024-01-01 12:00:00] production.NOTICE: n");
  CHECK(lines[3] == "[2024-01-01 12:00:00] production.WARNING: w");
  CHECK(lines[4] == "[2024-01-01 12:00:00] production.ERROR: e");
  CHECK(lines[5] == "[2024-01-01 12:00:00] production.CRITICAL: c");
}

TEST_CASE("log: records below the minimum level are dropped", "[log]") {
  captured_lines out;
  SECTION("default minimum is info") {
    auto session = setup_logging(quiet_options(out));
    log_debug("hidden");
    log_info("shown");
    REQUIRE(out.lines().size() == 1);
    CHECK_THAT(out.lines()[0], Catch::EndsWith("INFO: shown"));
  }
  SECTION("minimum warning") {
    auto o = quiet_options(out);
    o.min_level = log_level::warning;
    auto session = setup_logging(o);
    log_info("hidden");
    log_notice("hidden");
    log_warning("w");
    log_error("e");
    log_critical("c");
    CHECK(out.lines().size() == 3);
  }
}

TEST_CASE("log: parse_log_level", "[log]") {
  CHECK(parse_log_level("debug").value() == log_level::debug);
  CHECK(parse_log_level("WARNING").value() == log_level::warning);
  CHECK(parse_log_level("Critical").value() == log_level::critical);
  auto bad = parse_log_level("verbose");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().field == "log level");
}

TEST_CASE("log: context is compact JSON like PHP's json_encode", "[log]") {
  boost::json::object context{{"table", "inventory"},
                              {"rows", 12},
                              {"big", std::uint64_t{18446744073709551615ULL}},
                              {"duration", 0.25},
                              {"whole", 12.0},
                              {"ok", true},
                              {"none", nullptr},
                              {"url", "https://app.ruxxengas.com/api/sync/push"},
                              {"quote", "say \"hi\"\n"},
                              {"naira", "₦500 — Kano"},
                              {"list", boost::json::array{1, "two", 3.5}},
                              {"nested", boost::json::object{{"a", boost::json::array{}}}}};
  CHECK(context_to_json(context) ==
        R"({"table":"inventory","rows":12,"big":18446744073709551615,"duration":0.25,)"
        R"("whole":12.0,"ok":true,"none":null,)"
        R"("url":"https://app.ruxxengas.com/api/sync/push","quote":"say \"hi\"\n",)"
        R"("naira":"₦500 — Kano","list":[1,"two",3.5],"nested":{"a":[]}})");
  CHECK(context_to_json({}).empty());
  CHECK(context_to_json({{"x", 1e21}}) == R"({"x":1e+21})");
  CHECK(context_to_json({{"x", std::numeric_limits<double>::infinity()}}) == R"({"x":null})");
}

TEST_CASE("log: UTF-8 messages pass through; line breaks are escaped", "[log]") {
  captured_lines out;
  auto session = setup_logging(quiet_options(out));
  log_info("Dépôt Kano: ₦500 sold — ✓", {{"depot", "Kano dépôt"}});
  log_error("first line\nsecond line\r\nthird");
  const auto lines = out.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "[2024-01-01 12:00:00] local.INFO: Dépôt Kano: ₦500 sold — ✓ {\"depot\":\"Kano dépôt\"}");
  CHECK(lines[1] == "[2024-01-01 12:00:00] local.ERROR: first line\\nsecond line\\r\\nthird");
}

TEST_CASE("log: secrets are redacted in messages and context", "[log]") {
  ruxx_test::temp_dir dir;
  captured_lines out;
  auto o = quiet_options(out);
  const std::string key = "sk_live_9f8e7d6c";
  const std::string odd_key = R"(we"ird\key)";
  o.secrets = {key, "", odd_key};
  o.file = dir / "sync.log";
  {
    auto session = setup_logging(o);
    log_info("Using key " + key + " for push",
             {{"api_key", key}, {"header", "X-Sync-API-Key: " + key}});
    log_warning("odd " + odd_key, {{"k", odd_key}});
    log_info("nothing secret here");
  }
  const auto lines = out.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "[2024-01-01 12:00:00] local.INFO: Using key ******** for push "
        "{\"api_key\":\"********\",\"header\":\"X-Sync-API-Key: ********\"}");
  CHECK(lines[1] == "[2024-01-01 12:00:00] local.WARNING: odd ******** {\"k\":\"********\"}");
  CHECK(lines[2] == "[2024-01-01 12:00:00] local.INFO: nothing secret here");
  const std::string file_text = read_all(dir / "sync.log");
  CHECK(file_text.find(key) == std::string::npos);
  CHECK(file_text.find("we") == std::string::npos);
  CHECK(file_text.find("********") != std::string::npos);
}

TEST_CASE("log: redactor prefers the longest secret and ignores empty ones", "[log]") {
  const redactor r({"abc", "abcdef", ""});
  CHECK(r.apply("xabcdefx abc ab") == "x********x ******** ab");
  CHECK(redactor({""}).empty());
  CHECK(redactor().apply("unchanged") == "unchanged");
}

TEST_CASE("log: the file sink appends lines and the session removes its sinks", "[log]") {
  ruxx_test::temp_dir dir;
  captured_lines out;
  auto o = quiet_options(out);
  o.file = dir / "sync.log";
  {
    auto session = setup_logging(o);
    log_info("one");
  }
  log_info("after teardown");  // no live session: goes nowhere
  {
    auto again = setup_logging(o);  // setting up twice in one process works
    log_info("two");
  }
  const auto lines = read_lines(dir / "sync.log");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "[2024-01-01 12:00:00] local.INFO: one");
  CHECK(lines[1] == "[2024-01-01 12:00:00] local.INFO: two");
  CHECK(out.lines().size() == 2);
}

TEST_CASE("log: two live sessions each get every record", "[log]") {
  captured_lines a;
  captured_lines b;
  auto first = setup_logging(quiet_options(a));
  auto o = quiet_options(b);
  o.min_level = log_level::error;
  auto second = setup_logging(o);
  log_info("info");
  log_error("error");
  CHECK(a.lines().size() == 2);
  CHECK(b.lines().size() == 1);
  // A moved-from session owns nothing; the moved-to one still removes the sink.
  log_session moved = std::move(first);
  first = log_session();
  log_info("still to a");
  CHECK(a.lines().size() == 3);
  moved = log_session();
  log_info("to nobody but b's filter drops it");
  CHECK(a.lines().size() == 3);
}

TEST_CASE("log: nothing reaches stdout without a session (Boost.Log's default sink is off)",
          "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "stdout.txt";
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  REQUIRE(saved >= 0);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  log_critical("must not appear on stdout");
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  CHECK(read_all(path).empty());
}

TEST_CASE("log: the stderr sink writes one line per record", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "stderr.txt";
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(saved >= 0);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  {
    log_options o;
    o.clock = fixed_time;
    o.secrets = {"k3y"};
    auto session = setup_logging(o);  // to_stderr defaults to true
    log_info("to stderr with k3y", {{"n", 1}});
    log_debug("below the default level");
  }
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  CHECK(read_all(path) ==
        "[2024-01-01 12:00:00] local.INFO: to stderr with ******** {\"n\":1}\n");
}

TEST_CASE("log: setup errors", "[log]") {
  ruxx_test::temp_dir dir;
  log_options o;
  o.to_stderr = false;
  o.time_zone = "Mars/Base";
  CHECK_THROWS_AS(setup_logging(o), std::invalid_argument);
  o.time_zone = "UTC";
  o.file = dir / "no-such-dir" / "sync.log";
  try {
    auto session = setup_logging(o);
    FAIL("expected std::system_error");
  } catch (const std::system_error& e) {
    CHECK_THAT(e.what(), Catch::Contains((dir / "no-such-dir" / "sync.log").string()));
  }
}

TEST_CASE("log: rotating_file rotates by size and keeps max_files old files", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "sync.log";
  const rotation_policy policy{100, 2};
  {
    rotating_file file(path, policy);
    for (int i = 0; i < 12; ++i) {
      file.write_line("line " + std::to_string(i) + std::string(20, 'x'));
    }
  }
  // Lines are 27 or 28 bytes with the newline: 3 fit in 100 bytes.
  CHECK(read_lines(path) == std::vector<std::string>{"line 9" + std::string(20, 'x'),
                                                     "line 10" + std::string(20, 'x'),
                                                     "line 11" + std::string(20, 'x')});
  CHECK(read_lines(fs::path(path.string() + ".1")).front() == "line 6" + std::string(20, 'x'));
  CHECK(read_lines(fs::path(path.string() + ".2")).front() == "line 3" + std::string(20, 'x'));
  CHECK_FALSE(fs::exists(path.string() + ".3"));
  for (const auto* suffix : {"", ".1", ".2"}) {
    CHECK(fs::file_size(path.string() + suffix) <= 100);
  }
}

TEST_CASE("log: rotating_file continues an existing file and counts its size", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "sync.log";
  {
    std::ofstream existing(path, std::ios::binary);
    existing << std::string(90, 'o') << '\n';
  }
  rotating_file file(path, rotation_policy{100, 1});
  file.write_line("new line");  // 91 + 9 = 100: fits
  CHECK(read_lines(path).size() == 2);
  file.write_line("next");  // would pass 100: rotates first
  CHECK(read_lines(path) == std::vector<std::string>{"next"});
  CHECK(read_lines(path.string() + ".1").size() == 2);
}

TEST_CASE("log: rotating_file writes a line longer than the limit whole", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "sync.log";
  rotating_file file(path, rotation_policy{10, 1});
  file.write_line(std::string(50, 'L'));
  file.write_line(std::string(50, 'M'));
  CHECK(read_lines(path) == std::vector<std::string>{std::string(50, 'M')});
  CHECK(read_lines(path.string() + ".1") == std::vector<std::string>{std::string(50, 'L')});
}

TEST_CASE("log: rotating_file with max_files 0 truncates instead", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "sync.log";
  rotating_file file(path, rotation_policy{20, 0});
  file.write_line("0123456789");
  file.write_line("abcdefghij");
  CHECK(read_lines(path) == std::vector<std::string>{"abcdefghij"});
  CHECK_FALSE(fs::exists(path.string() + ".1"));
}

TEST_CASE("log: rotating_file reopens when the file was moved away by someone else", "[log]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / "sync.log";
  rotating_file file(path, rotation_policy{});
  file.write_line("before");
  fs::rename(path, dir / "moved.log");
  file.write_line("after");
  CHECK(read_lines(path) == std::vector<std::string>{"after"});
  CHECK(read_lines(dir / "moved.log") == std::vector<std::string>{"before"});
  fs::remove(path);
  file.write_line("recreated");
  CHECK(read_lines(path) == std::vector<std::string>{"recreated"});
}

TEST_CASE("log: --log-file rotation through the session", "[log]") {
  ruxx_test::temp_dir dir;
  captured_lines out;
  auto o = quiet_options(out);
  o.file = dir / "sync.log";
  o.rotation = rotation_policy{200, 3};
  {
    auto session = setup_logging(o);
    for (int i = 0; i < 40; ++i) log_info("sync pass", {{"n", i}});
  }
  // 52- or 53-byte lines, 3 per 200-byte file: 40 lines make 14 files, of which 4 are kept.
  CHECK(fs::exists(dir / "sync.log"));
  CHECK(fs::exists(dir / "sync.log.3"));
  CHECK_FALSE(fs::exists(dir / "sync.log.4"));
  const auto newest = read_lines(dir / "sync.log");
  REQUIRE_FALSE(newest.empty());
  CHECK(newest.back() == "[2024-01-01 12:00:00] local.INFO: sync pass {\"n\":39}");
  for (const auto* suffix : {"", ".1", ".2", ".3"}) {
    CHECK(fs::file_size(dir.path().string() + "/sync.log" + suffix) <= 200);
  }
}

TEST_CASE("log: lines from many threads stay whole", "[log]") {
  ruxx_test::temp_dir dir;
  captured_lines out;
  auto o = quiet_options(out);
  o.file = dir / "sync.log";
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  {
    auto session = setup_logging(o);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([t] {
        for (int i = 0; i < per_thread; ++i) {
          const std::string filler(100, static_cast<char>('a' + t));
          log_info("worker " + std::to_string(t) + " " + filler, {{"i", i}});
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  const auto lines = read_lines(dir / "sync.log");
  REQUIRE(lines.size() == threads * per_thread);
  const std::regex shape(
      R"(\[2024-01-01 12:00:00\] local\.INFO: worker (\d) ([a-d])\2{99} \{"i":\d+\})");
  int malformed = 0;
  for (const auto& line : lines) {
    if (!std::regex_match(line, shape)) ++malformed;
  }
  CHECK(malformed == 0);
  CHECK(out.lines().size() == threads * per_thread);
}
