// The test binary's entry: removes namespaces and folders a killed earlier run left behind, then
// runs Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>

int main(int argc, char** argv) {
    // Unprivileged runs cannot see or remove namespaces anyway; their privileged tests skip.
    if (fizzhost::test::hasPrivilege()) {
        try {
            if (size_t n = fizzhost::test::NetNs::sweepStale())
                std::fprintf(stderr, "removed %zu stale test namespace(s)/link(s) of earlier runs\n", n);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "warning: sweeping stale test namespaces: %s\n", e.what());
        }
    }
    try {
        if (size_t n = fizzhost::test::TempDir::sweepStale())
            std::fprintf(stderr, "removed %zu stale test folder(s) of earlier runs\n", n);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: sweeping stale test folders: %s\n", e.what());
    }
    // Commands the tests run (classify, plugins) start confined decoder workers, whose chroot
    // folders go under a root folder: this run's own, not the system's /var/lib/fizzhost.
    std::optional<fizzhost::test::TempDir> decoderRoot;
    if (!std::getenv("FIZZHOST_DECODER_ROOT")) {
        decoderRoot.emplace();
        ::setenv("FIZZHOST_DECODER_ROOT", decoderRoot->path().c_str(), 1);
    }
    const int failed = Catch::Session().run(argc, argv);
    // A skipped privileged test case "passes" in Catch2's summary: say how many there were.
    if (const size_t skipped = fizzhost::test::privilegedSkips())
        std::cout << skipped << " test case(s) skipped for lack of privilege: they passed without running their "
                  << "privileged part (run as root; FIZZ_REQUIRE_PRIVILEGED=1 makes a skip a failure)" << std::endl;
    return failed;
}
