// The single translation unit that compiles Boost.Asio, Asio's SSL support and Boost.Beast for
// the whole project (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION), so no
// other file pays for their implementation again.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
