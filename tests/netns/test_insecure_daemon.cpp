// Insecure plugin mode is state the config switches on and off: applied and undone by reload, warned
// at each reload that uses it, shown in status.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

TEST_CASE("allow_insecure_plugins is applied and undone by reload, and shown in status", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    const std::string ifc = interfaceTable(lab.ifname(), "fizz");
    lab.writeConfig(ifc, plugins);
    lab.start();
    CHECK(lab.status()["insecure_plugins"] == false);
    const auto programId = lab.interfaceStatus()["program_id"];

    // A plugin folder others can write: refused in secure mode, accepted once the config allows it.
    ::chmod(plugins.c_str(), 0777);
    CHECK_FALSE(lab.reload());
    CHECK_THAT(lab.daemon().stderrText(), Contains("writable by others"));
    lab.writeConfig("allow_insecure_plugins = true\n" + ifc, plugins);
    REQUIRE(lab.reload());
    CHECK(lab.status()["insecure_plugins"] == true);
    CHECK_THAT(lab.daemon().stderrText(), Contains("insecure plugin mode switched ON") && Contains("INSECURE"));
    CHECK(lab.interfaceStatus()["program_id"] == programId);  // an unchanged plugin keeps its program

    // Taken out of the config again: the strict check is back, so this reload fails and changes nothing.
    lab.writeConfig(ifc, plugins);
    CHECK_FALSE(lab.reload());
    CHECK(lab.status()["insecure_plugins"] == true);
    ::chmod(plugins.c_str(), 0755);
    REQUIRE(lab.reload());
    CHECK(lab.status()["insecure_plugins"] == false);
    CHECK_THAT(lab.daemon().stderrText(), Contains("insecure plugin mode switched off"));
    CHECK(lab.stop() == 0);
}
