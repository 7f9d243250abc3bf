// streamed_body: the first piece, then the source until it says it is done, through gzip.
#include "streamed_body.hpp"

#include <stdexcept>
#include <utility>

namespace synccore::net::detail {

streamed_body::streamed_body(std::string first_piece, body_source source, bool gzip)
    : first_piece_(std::move(first_piece)), source_(std::move(source)) {
  if (gzip) gzip_.emplace();
}

std::string streamed_body::next(bool& last) {
  std::string piece;
  bool more = true;
  if (first_pending_) {
    first_pending_ = false;
    piece = std::move(first_piece_);
    more = static_cast<bool>(source_);
  } else {
    if (!source_) throw std::logic_error("streamed_body::next after the last piece");
    more = source_(piece);
  }
  // The source may hold a database statement or a pooled connection: let go of it as soon as
  // it has produced its last piece, not when the response has finished writing.
  if (!more) source_ = nullptr;
  last = !more;
  return gzip_ ? gzip_->compress(piece, last) : piece;
}

}  // namespace synccore::net::detail
