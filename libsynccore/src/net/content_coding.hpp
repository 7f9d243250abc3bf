// Parsing of the Accept-Encoding and Content-Encoding header values, shared by the server and
// the client. Internal: not part of the public API.
#pragma once

#include <string_view>

namespace synccore::net::detail {

// Returns true when an Accept-Encoding value allows gzip: a "gzip", "x-gzip" or "*" coding
// whose q-value is not 0 ("gzip;q=0" refuses it). Case-insensitive.
bool accepts_gzip(std::string_view accept_encoding);

enum class body_coding { identity, gzip, unsupported };

// Classifies a Content-Encoding value: empty or "identity" -> identity; "gzip"/"x-gzip" ->
// gzip; anything else (deflate, br, a list of codings) -> unsupported.
body_coding classify_content_encoding(std::string_view content_encoding);

}  // namespace synccore::net::detail
