// gzip (RFC 1952) compression of whole in-memory bodies, and of bodies sent piece by piece, used
// by the HTTP server and client for `Content-Encoding: gzip`. Decompression takes an output limit because a few kilobytes of gzip
// can expand to gigabytes ("zip bomb"): exceeding the limit is an error, never an allocation.
#pragma once

#include <cstddef>
#include <string>
#include <memory>
#include <string_view>

#include <synccore/util/expected.hpp>

namespace synccore::net {

// Returns `data` as one gzip member (zlib, default level, windowBits 15+16).
// Throws std::bad_alloc or std::runtime_error on a zlib internal fault (never for valid input).
// Thread-safe (no shared state).
std::string gzip_compress(std::string_view data);

// One gzip member produced piece by piece, for a body sent before all of it exists. Not
// thread-safe (one thread at a time); movable.
class gzip_stream {
 public:
  // Throws std::bad_alloc or std::runtime_error when zlib cannot start.
  gzip_stream();
  ~gzip_stream();
  gzip_stream(gzip_stream&&) noexcept;
  gzip_stream& operator=(gzip_stream&&) noexcept;

  // Compresses `data` as the next part of the member and returns the compressed bytes ready
  // so far (often none: zlib keeps up to its window before emitting). With `finish`, also
  // returns everything still buffered and the gzip trailer; the stream is then complete.
  // The concatenation of all returned strings is one gzip member of the concatenated inputs.
  // REQUIRES: not called after a call with `finish`.
  std::string compress(std::string_view data, bool finish);

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// Returns the decompressed content of one or more concatenated gzip members in `data`.
// Errors: field "gzip" for corrupt or truncated input or trailing garbage; field "max_output"
// when the output would exceed `max_output` bytes (checked while inflating: memory never
// exceeds the limit by more than one internal chunk). Thread-safe (no shared state).
expected<std::string> gzip_decompress(std::string_view data, std::size_t max_output);

}  // namespace synccore::net
