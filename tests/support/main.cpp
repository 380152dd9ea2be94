// The test binary's entry: removes namespaces a crashed earlier run left behind, then runs Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/netns.hpp"

#include <unistd.h>

int main(int argc, char** argv) {
    if (geteuid() == 0) fizzhost::test::NetNs::sweepStale();
    return Catch::Session().run(argc, argv);
}
