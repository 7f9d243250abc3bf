// Accept-Encoding / Content-Encoding parsing (RFC 9110 section 8.4 and 12.5.3), reduced to the
// one coding we support.
#include "content_coding.hpp"

#include "text_util.hpp"

namespace synccore::net::detail {
namespace {

// Returns false when the parameters of one coding contain q=0 (or 0.0, 0.00, 0.000).
bool q_allows(std::string_view params) {
  while (!params.empty()) {
    const std::size_t semi = params.find(';');
    const std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "q")) continue;
    // A qvalue is "0" or "1" with up to three decimals: it is zero iff it has no digit 1-9.
    const std::string_view value = trim(param.substr(eq + 1));
    return value.find_first_of("123456789") != std::string_view::npos;
  }
  return true;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool star = false;
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    const std::string_view params =
        semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) return q_allows(params);
    if (coding == "*") star = q_allows(params);
  }
  return star;
}

body_coding classify_content_encoding(std::string_view content_encoding) {
  const std::string_view value = trim(content_encoding);
  if (value.empty() || iequals(value, "identity")) return body_coding::identity;
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return body_coding::gzip;
  return body_coding::unsupported;
}

}  // namespace synccore::net::detail
