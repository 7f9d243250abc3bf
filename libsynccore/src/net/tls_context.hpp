// Building the OpenSSL contexts for the server (certificate + key) and the client (system trust
// store + optional extra CA file), both restricted to TLS 1.2 and later. Internal.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <optional>
#include <string>

#include <synccore/net/http_server.hpp>

namespace synccore::net::detail {

// Returns a server context loaded from `files`. Throws std::runtime_error naming the file when
// a file is missing or unreadable, is not valid PEM, or the key does not match the certificate.
boost::asio::ssl::context make_server_tls_context(const tls_files& files);

// Returns a client context that verifies peers against the system trust store plus `ca_file`
// (a PEM bundle) when given. Throws std::runtime_error naming the file when it cannot be loaded.
boost::asio::ssl::context make_client_tls_context(const std::optional<std::string>& ca_file);

}  // namespace synccore::net::detail
