// One Boost.Log synchronous sink per session: the frontend filters by level and formats each
// record once (line_format + redactor), and the backend writes the line to stderr, the rotating
// file and the observer under the frontend's lock, so lines from several threads never mix.
// Records are built directly on the core (no logger object): the level goes in before the core
// asks the sinks' filters, the time, context and message only when some sink wants the record.
#include <synccore/log/line_format.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/log/redactor.hpp>

#include <boost/log/attributes/attribute_value_impl.hpp>
#include <boost/log/attributes/constant.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/core.hpp>
#include <boost/log/core/record.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sink.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/make_shared.hpp>
#include <date/tz.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

namespace synccore::log {
namespace bl = boost::log;

namespace {

using clock_type = std::chrono::system_clock;

const bl::attribute_name& severity_key() {
  static const bl::attribute_name name("Severity");
  return name;
}
const bl::attribute_name& time_key() {
  static const bl::attribute_name name("TimeStamp");
  return name;
}
const bl::attribute_name& context_key() {
  static const bl::attribute_name name("Context");
  return name;
}
const bl::attribute_name& message_key() {
  static const bl::attribute_name name("Message");
  return name;
}

// Boost.Log prints every record to stdout through a built-in "default sink" whenever the core
// has no sink at all (before the first session, between two). That would bypass redaction and
// pollute stdout (which master-server uses for "listening on ..."). A sink that accepts
// nothing, registered once, switches the default sink off for good.
class null_sink final : public bl::sinks::sink {
 public:
  null_sink() : sink(false) {}
  bool will_consume(const bl::attribute_value_set&) override { return false; }
  void consume(const bl::record_view&) override {}
  bool try_consume(const bl::record_view&) override { return true; }
  void flush() override {}
};

void disable_default_sink() {
  // Function-local constant: the registration happens once, thread-safely; nothing mutable.
  static const bool registered = [] {
    bl::core::get()->add_sink(boost::make_shared<null_sink>());
    return true;
  }();
  (void)registered;
}

struct line_formatter {
  const date::time_zone* zone;
  std::string environment;
  std::shared_ptr<const redactor> secrets;
  std::function<clock_type::time_point()> clock;

  void operator()(const bl::record_view& rec, bl::formatting_ostream& out) const {
    const auto& values = rec.attribute_values();
    const auto level = bl::extract<log_level>(severity_key(), values);
    const auto stamp = bl::extract<clock_type::time_point>(time_key(), values);
    const auto context = bl::extract<std::string>(context_key(), values);
    const auto message = bl::extract<std::string>(message_key(), values);
    const clock_type::time_point when = clock ? clock() : (stamp ? stamp.get() : clock_type::now());
    const std::string line =
        format_log_line(zone, environment, when, level ? level.get() : log_level::info,
                        message ? std::string_view(message.get()) : std::string_view(),
                        context ? std::string_view(context.get()) : std::string_view());
    out << secrets->apply(line);
  }
};

class session_backend final
    : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
 public:
  session_backend(bool to_stderr, std::unique_ptr<rotating_file> file,
                  std::function<void(std::string_view)> observer)
      : to_stderr_(to_stderr), file_(std::move(file)), observer_(std::move(observer)) {}

  // Called by the frontend with its lock held.
  void consume(const bl::record_view&, const string_type& line) {
    if (to_stderr_) write_stderr(line);
    if (file_) {
      try {
        file_->write_line(line);
        file_failing_ = false;
      } catch (const std::exception& e) {
        // Report the first failure of a run of failures on stderr, then keep trying quietly.
        if (!file_failing_) write_stderr(std::string("log file write failed: ") + e.what());
        file_failing_ = true;
      }
    }
    if (observer_) observer_(line);
  }

  void flush() { std::fflush(stderr); }

 private:
  static void write_stderr(const std::string& line) {
    std::string buffer = line;
    buffer += '\n';
    // stderr is unbuffered: one fwrite is one write(2), so a line stays whole.
    (void)std::fwrite(buffer.data(), 1, buffer.size(), stderr);
  }

  bool to_stderr_;
  std::unique_ptr<rotating_file> file_;
  std::function<void(std::string_view)> observer_;
  bool file_failing_ = false;
};

using session_sink = bl::sinks::synchronous_sink<session_backend>;

}  // namespace

struct log_session::state {
  boost::shared_ptr<session_sink> sink;

  ~state() {
    auto core = bl::core::get();
    core->remove_sink(sink);
    sink->flush();
  }
};

log_session::log_session() noexcept = default;
log_session::log_session(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
log_session::~log_session() = default;
log_session::log_session(log_session&&) noexcept = default;
log_session& log_session::operator=(log_session&&) noexcept = default;

void log_session::flush() {
  if (state_) state_->sink->flush();
}

log_session setup_logging(const log_options& options) {
  disable_default_sink();

  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(options.time_zone);
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown time zone \"" + options.time_zone + "\"");
  }

  std::unique_ptr<rotating_file> file;
  if (options.file) file = std::make_unique<rotating_file>(*options.file, options.rotation);

  auto backend = boost::make_shared<session_backend>(options.to_stderr, std::move(file),
                                                     options.line_observer);
  auto sink = boost::make_shared<session_sink>(backend);
  sink->set_formatter(line_formatter{zone, options.environment,
                                     std::make_shared<const redactor>(options.secrets),
                                     options.clock});
  const log_level min_level = options.min_level;
  sink->set_filter([min_level](const bl::attribute_value_set& values) {
    const auto level = bl::extract<log_level>(severity_key(), values);
    return level && level.get() >= min_level;
  });

  auto s = std::make_unique<log_session::state>();
  s->sink = sink;
  bl::core::get()->add_sink(sink);
  return log_session(std::move(s));
}

void log_message(log_level level, std::string_view message, const boost::json::object& context) {
  disable_default_sink();
  auto core = bl::core::get();
  bl::attribute_set source;
  source.insert(severity_key(), bl::attributes::constant<log_level>(level));
  bl::record rec = core->open_record(source);
  if (!rec) return;  // no live session wants this level
  auto& values = rec.attribute_values();
  values.insert(time_key(), bl::attributes::make_attribute_value(clock_type::now()));
  values.insert(context_key(), bl::attributes::make_attribute_value(context_to_json(context)));
  values.insert(message_key(), bl::attributes::make_attribute_value(std::string(message)));
  core->push_record(std::move(rec));
}

}  // namespace synccore::log
