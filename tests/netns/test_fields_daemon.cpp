// Typed fields end to end through the daemon: real frames on a veth, the fields-probe plugin's
// program and decoder, events written by the host in JSON and in text.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace fizzhost::test;

namespace {

std::vector<std::string> waitForLines(const std::filesystem::path& file, size_t count) {
    std::vector<std::string> lines;
    for (int i = 0; i < 200 && lines.size() < count; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        lines.clear();
        std::ifstream in(file);
        for (std::string l; std::getline(in, l);)
            if (!l.empty()) lines.push_back(l);
    }
    return lines;
}

}  // namespace

TEST_CASE("the daemon writes each event's typed fields, as JSON and as text", "[daemon]") {
    if (!requirePrivilege("daemon on a veth pair")) return;
    const std::string dir = std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fields-probe";
    for (const std::string format : {"json", "text"}) {
        DYNAMIC_SECTION(format) {
            DaemonLab lab;
            auto events = lab.dir() / ("events." + format);
            lab.writeConfig("[interface." + lab.ifname() + "]\nclassifier = \"fields-probe\"\n[output]\nevents = \"" +
                                events.string() + "\"\nformat = \"" + format + "\"\n",
                            dir);
            lab.start();
            lab.send({0xC6120007, 0xC6120008});
            auto lines = waitForLines(events, 2);
            REQUIRE(lines.size() == 2);
            if (format == "json") {
                auto odd = nlohmann::json::parse(lines[0]);
                CHECK(odd["plugin"] == "fields-probe");
                CHECK(odd["fields"] == nlohmann::json::parse(R"({"src":"198.18.0.7","big":3323078392205269,
                    "delta":-121,"odd":true,"label":"odd \"q\"","ratio":-30.25,"only_odd":7})"));
                CHECK(nlohmann::json::parse(lines[1])["fields"]["only_odd"].is_null());
            } else {
                CHECK_THAT(lines[0], Catch::Matchers::EndsWith(
                                         "Odd 198.18.0.7 src=198.18.0.7 big=3323078392205269 delta=-121 odd=true "
                                         "label=\"odd \\\"q\\\"\" ratio=-30.25 only_odd=7"));
                CHECK_THAT(lines[1], Catch::Matchers::Contains("Even 198.18.0.8 ") &&
                                         Catch::Matchers::EndsWith(" only_odd=-"));
            }
            CHECK(lab.stop() == 0);
        }
    }
}
