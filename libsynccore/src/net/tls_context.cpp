// OpenSSL context set-up via boost::asio::ssl, with errors turned into one-line messages.
#include "tls_context.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <stdexcept>

namespace synccore::net::detail {
namespace ssl = boost::asio::ssl;

namespace {

void require_readable(const std::string& path, const char* what) {
  if (path.empty()) throw std::runtime_error(std::string("TLS ") + what + " file is not set");
  std::ifstream probe(path, std::ios::binary);
  if (!probe)
    throw std::runtime_error(std::string("cannot read TLS ") + what + " file '" + path + "'");
}

void restrict_to_modern_tls(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot restrict TLS to version 1.2 or later");
  }
}

}  // namespace

ssl::context make_server_tls_context(const tls_files& files) {
  require_readable(files.certificate_chain_file, "certificate");
  require_readable(files.private_key_file, "private key");
  ssl::context ctx(ssl::context::tls_server);
  restrict_to_modern_tls(ctx);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(files.certificate_chain_file, ec);
  if (ec) {
    throw std::runtime_error("invalid TLS certificate file '" + files.certificate_chain_file +
                             "': " + ec.message());
  }
  ctx.use_private_key_file(files.private_key_file, ssl::context::pem, ec);
  const bool mismatch =
      ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) {
    throw std::runtime_error("invalid TLS private key file '" + files.private_key_file +
                             "': " + ec.message());
  }
  if (mismatch || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    throw std::runtime_error("TLS private key '" + files.private_key_file +
                             "' does not match the certificate '" + files.certificate_chain_file +
                             "'");
  }
  return ctx;
}

ssl::context make_client_tls_context(const std::optional<std::string>& ca_file) {
  ssl::context ctx(ssl::context::tls_client);
  restrict_to_modern_tls(ctx);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) throw std::runtime_error("cannot load the system TLS trust store: " + ec.message());
  if (ca_file) {
    require_readable(*ca_file, "CA");
    ctx.load_verify_file(*ca_file, ec);
    if (ec) throw std::runtime_error("invalid TLS CA file '" + *ca_file + "': " + ec.message());
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace synccore::net::detail
