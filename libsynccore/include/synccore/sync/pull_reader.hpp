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

// Version 1 pull: produces `row,row,...` JSON text (no brackets) in chunks, walking the table
// by id. Each chunk is read by its own statement, in its own read transaction, on whatever
// connection the caller lends it, so a long answer holds neither a connection nor a snapshot
// while it waits for a slow client. Every row with an id past the previous chunk's last id is
// considered, so no row is sent twice; a row committed between chunks is sent if its id is
// still ahead, and otherwise left to the next pull (as a row committed after a single read's
// snapshot would be).
class v1_row_stream {
 public:
  // `since_db` is the since instant as database text, or nullopt for all rows.
  // `table` and `zone` must outlive the stream.
  v1_row_stream(const tables::table_descriptor& table, const time::app_zone& zone,
                std::optional<std::string> since_db, std::span<const std::string_view> omit);
  ~v1_row_stream();
  v1_row_stream(const v1_row_stream&) = delete;
  v1_row_stream& operator=(const v1_row_stream&) = delete;

  // Appends the next rows (a comma before each but the stream's first) to `out` until it has
  // grown by about `target_bytes` (at least one row while rows remain). Returns true while rows
  // may remain, false once the last row was appended. Throws db::sqlite_error on I/O failure.
  bool next_chunk(db::connection& conn, std::string& out, std::size_t target_bytes);
  std::size_t count() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace synccore::sync
