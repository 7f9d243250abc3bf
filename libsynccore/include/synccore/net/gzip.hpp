// gzip (RFC 1952) compression of whole in-memory bodies, used by the HTTP server and client for
// `Content-Encoding: gzip`. Decompression takes an output limit because a few kilobytes of gzip
// can expand to gigabytes ("zip bomb"): exceeding the limit is an error, never an allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <synccore/util/expected.hpp>

namespace synccore::net {

// Returns `data` as one gzip member (zlib, default level, windowBits 15+16).
// Throws std::bad_alloc or std::runtime_error on a zlib internal fault (never for valid input).
// Thread-safe (no shared state).
std::string gzip_compress(std::string_view data);

// Returns the decompressed content of one or more concatenated gzip members in `data`.
// Errors: field "gzip" for corrupt or truncated input or trailing garbage; field "max_output"
// when the output would exceed `max_output` bytes (checked while inflating: memory never
// exceeds the limit by more than one internal chunk). Thread-safe (no shared state).
expected<std::string> gzip_decompress(std::string_view data, std::size_t max_output);

}  // namespace synccore::net
