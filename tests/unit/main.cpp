// The Catch2 main for the libsynccore unit tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
