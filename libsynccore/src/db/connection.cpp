#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>

#include <sqlite3.h>

#include <string>

namespace synccore::db {

void connection::closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

connection::connection(const std::filesystem::path& path, const open_options& options)
    : path_(path) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // SQLite allocates a handle even on failure: own it either way.
  if (rc != SQLITE_OK) {
    const std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw sqlite_error(raw ? sqlite3_extended_errcode(raw) : rc,
                       "cannot open database " + path.string() + ": " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  // Reading the schema here turns "file is not a database" into an open-time error.
  execute("SELECT count(*) FROM sqlite_schema");
  if (!options.read_only && options.wal) {
    auto st = prepare("PRAGMA journal_mode=WAL");
    st.step();
  }
  execute(options.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
  // Statement journals and the scratch tables of IN lists stay in memory. A multi-row INSERT
  // inside a transaction keeps a statement journal (the original of every page it changes, so
  // the statement alone can be undone); on a file it spilled past 64 KiB, and a 10k-row push
  // wrote it 17,800 times (a quarter of the push's time). Each statement's journal is small
  // (one batch of rows), so memory stays bounded.
  execute("PRAGMA temp_store=MEMORY");
}

connection::~connection() = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

void connection::execute(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw sqlite_error(sqlite3_extended_errcode(db_.get()), msg);
  }
}

statement connection::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw,
                                    nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    const auto eol = sql.find('\n');
    throw_error(rc, "prepare: " + std::string(sql.substr(0, eol)));
  }
  return statement(*this, raw);
}

std::shared_ptr<statement> connection::reusable(std::string_view sql) {
  const std::string key(sql);
  if (const auto found = reusable_.find(key); found != reusable_.end()) {
    if (found->second.use_count() == 1) {
      found->second->reset();
      return found->second;
    }
    return std::make_shared<statement>(prepare(sql));  // in use: this caller gets its own
  }
  if (reusable_.size() >= reusable_statement_limit) reusable_.clear();
  auto st = std::make_shared<statement>(prepare(sql));
  reusable_.emplace(key, st);
  return st;
}

long long connection::last_insert_rowid() const noexcept {
  return sqlite3_last_insert_rowid(db_.get());
}
int connection::changes() const noexcept { return sqlite3_changes(db_.get()); }
bool connection::in_transaction() const noexcept { return sqlite3_get_autocommit(db_.get()) == 0; }

bool connection::has_table(std::string_view table) {
  auto st = prepare("SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?");
  st.bind(1, table);
  return st.step();
}

void connection::throw_error(int rc, std::string_view context) const {
  const int code = db_ ? sqlite3_extended_errcode(db_.get()) : rc;
  std::string msg(context);
  msg += ": ";
  msg += db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  throw sqlite_error(code == SQLITE_OK ? rc : code, msg);
}

std::string quote_identifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace synccore::db
