// The reload guard benchmarks the incoming program against the running one before a swap.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

TEST_CASE("the reload guard refuses the seed's slow Fibonacci loop and accepts a fast classifier", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    for (const char* p : {"fibonacci.so", "fizzbuzz.so"})
        std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / p, plugins / p);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "fibonacci-naive/fibonacci-naive.so",
                               plugins / "fibonacci-naive.so");
    auto config = [&](const std::string& classifier) {
        return "[guard]\nmax_slowdown = 1.5\nmix = \"worst\"\n[interface." + lab.ifname() + "]\nclassifier = \"" +
               classifier + "\"\n";
    };
    lab.writeConfig(config("fibonacci"), plugins);
    lab.start();
    const auto program = lab.interfaceStatus()["program_id"];

    lab.writeConfig(config("fibonacci-naive"), plugins);
    CHECK_FALSE(lab.reload());
    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("reload guard on the 'worst' mix: running fibonacci 3.0.0"));
    CHECK_THAT(log, Contains(std::string("incoming fibonacci-naive ") + FIZZHOST_NAIVE_VERSION));
    CHECK_THAT(log, Contains("refusing the swap"));
    CHECK(lab.interfaceStatus()["program_id"] == program);
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fibonacci");

    lab.writeConfig(config("fizzbuzz"), plugins);
    CHECK(lab.reload());
    CHECK_THAT(lab.daemon().stderrText(), Contains("incoming fizzbuzz 2.0.0") && Contains(": accepted"));
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizzbuzz");
    CHECK(lab.stop() == 0);
    // The figures, for whoever reads the test output.
    std::istringstream lines(lab.daemon().stderrText());
    for (std::string line; std::getline(lines, line);)
        if (line.find("reload guard on") != std::string::npos) std::fprintf(stderr, "%s\n", line.c_str());
}
