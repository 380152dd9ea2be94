// Runs a command-line program of the project (the fizzhost binary, fizzhost-send) to its end for a
// test, optionally inside a namespace, and hands back its exit status and output.
#pragma once

#include "support/daemon_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace fizzhost::test {

struct CliRun {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
};

/// Runs `program` with `args` (inside `netns` when given) until it exits; fails the test when it
/// is still running after `timeout` (the process is killed on the way out).
inline CliRun runToEnd(const std::string& program, const std::vector<std::string>& args, const std::string& netns = "",
                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), args.begin(), args.end());
    DaemonProcess p(argv, {}, netns);
    auto st = p.waitExit(timeout);
    REQUIRE(st);
    return {*st, p.stdoutText(), p.stderrText()};
}

/// The fizzhost binary of this build.
inline CliRun runFizzhost(const std::vector<std::string>& args, const std::string& netns = "") {
    return runToEnd(FIZZHOST_BINARY, args, netns);
}

}  // namespace fizzhost::test
