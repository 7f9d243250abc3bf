// The body of a server response that is sent while it is still being produced: the first piece
// the server already holds, then what the handler's body_source appends call after call, each
// piece gzip-compressed on the way when the response is gzip-coded. Used by one session at a
// time: next() runs on a worker thread (the source may block on SQLite), never concurrently.
// Internal.
#pragma once

#include <optional>
#include <string>

#include <synccore/net/gzip.hpp>
#include <synccore/net/http_message.hpp>

namespace synccore::net::detail {

class streamed_body {
 public:
  // `first_piece`: the body produced so far; `source`: the rest (see http_response::more_body).
  streamed_body(std::string first_piece, body_source source, bool gzip);

  // Returns the next bytes to write (possibly none, while zlib collects input) and sets `last`
  // when nothing follows them. Throws whatever the source throws; the body is then unusable.
  // REQUIRES: not called again after it set `last`.
  std::string next(bool& last);

 private:
  std::string first_piece_;
  bool first_pending_ = true;
  body_source source_;
  std::optional<gzip_stream> gzip_;
};

}  // namespace synccore::net::detail
