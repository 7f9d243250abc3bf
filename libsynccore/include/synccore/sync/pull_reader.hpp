// The master's side of a pull. Version 2 reads by a master-issued cursor in pages of a bounded
// size: a fresh cursor first walks the table by id (a snapshot, remembering the change sequence
// it started at), then follows ruxx_sync_changes from that sequence, so a row the master
// receives late with an old updated_at is still seen, and deletes travel in the same stream.
// Version 1 (PHP slaves) reads rows whose updated_at is at or after `since`, compared as real
// instants, produced in chunks so memory stays bounded whatever the table size.
#pragma once

#include <synccore/util/expected.hpp>

#include <boost/json/array.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
}
namespace synccore::tables {
struct table_descriptor;
}
namespace synccore::time {
class app_zone;
}

namespace synccore::sync {

// A position in a table's pull stream. Text form: "s<seq>-<last id>" while in the snapshot,
// "c<seq>" while following changes. The empty text is the start of a snapshot.
struct pull_cursor {
  bool snapshot = true;
  std::int64_t seq = 0;      // change sequence the snapshot started at / last seq delivered
  std::int64_t last_id = 0;  // last id delivered by the snapshot
  bool started = false;      // false for the empty cursor

  std::string text() const;
  static expected<pull_cursor> parse(std::string_view text);
};

struct pull_page {
  boost::json::array rows;     // wire rows
  boost::json::array deleted;  // identity values (text) of rows deleted on the master
  pull_cursor next;
  bool has_more = false;
};

// Reads at most `limit` entries after `cursor`. Columns in `omit` are not sent. Runs in one
// read transaction. Throws db::sqlite_error on I/O failure.
pull_page read_pull_page(db::connection& conn, const tables::table_descriptor& table,
                         const time::app_zone& zone, const pull_cursor& cursor, std::size_t limit,
                         std::span<const std::string_view> omit);

// Version 1 pull: streams `[row,row,...]` JSON text in chunks. Holds an open statement on
// `conn`, which must outlive it and not be used elsewhere meanwhile.
class v1_row_stream {
 public:
  // `since_db` is the since instant as database text, or nullopt for all rows.
  v1_row_stream(db::connection& conn, const tables::table_descriptor& table,
                const time::app_zone& zone, std::optional<std::string> since_db,
                std::span<const std::string_view> omit);
  ~v1_row_stream();
  v1_row_stream(const v1_row_stream&) = delete;
  v1_row_stream& operator=(const v1_row_stream&) = delete;

  // Appends rows' JSON (comma-separated, no brackets) to `out` until it holds about
  // `target_bytes`. Returns true while rows may remain, false once the last row was appended
  // (what `out` received is still to be sent).
  bool next_chunk(std::string& out, std::size_t target_bytes);
  std::size_t count() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace synccore::sync
