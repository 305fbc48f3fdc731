// The one translation unit that holds Catch2's main(); every chapter's test
// executable links it, so Catch2's large header is compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
