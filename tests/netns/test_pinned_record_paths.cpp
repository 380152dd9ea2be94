// A pinned record is read back by the next host, as root, and names the map pins it opens. A
// record whose pin names lead out of the interface's folder (tampered with, or written wrong) is
// refused before anything it names is opened: the state is not adopted but detached and the
// interface attached anew, and the log names the interface and the bad value.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>

#include <string>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

constexpr uint32_t kRecordBytes = 4096;  // the record map's value (runtime/pin_store.cpp)

UniqueFd pinned(const std::filesystem::path& path) {
    UniqueFd fd(bpf_obj_get(path.c_str()));
    REQUIRE(fd);
    return fd;
}

nlohmann::json readRecord(const std::filesystem::path& folder) {
    UniqueFd map = pinned(folder / "record");
    std::string text(kRecordBytes, '\0');
    const uint32_t key = 0;
    REQUIRE(bpf_map_lookup_elem(map.get(), &key, text.data()) == 0);
    return nlohmann::json::parse(text.substr(0, text.find('\0')));
}

void writeRecord(const std::filesystem::path& folder, const nlohmann::json& record) {
    UniqueFd map = pinned(folder / "record");
    std::string text = record.dump();
    REQUIRE(text.size() < kRecordBytes);
    text.resize(kRecordBytes, '\0');
    const uint32_t key = 0;
    REQUIRE(bpf_map_update_elem(map.get(), &key, text.data(), BPF_ANY) == 0);
}

}  // namespace

TEST_CASE("a pinned record naming pins outside the interface's folder is refused, nothing it names is opened, "
          "and the link is kept for the configured program",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig("[service]\non_exit = \"keep\"\n[interface." + lab.ifname() + "]\nclassifier = \"fizz\"\n");
    lab.start();
    const uint32_t firstLink = lab.interfaceStatus()["link_id"];
    REQUIRE(lab.stop() == 0);
    const auto folder = lab.stateRoot() / lab.ifname();

    // A record pointing one folder up, at a pin that is there: the very regions map, pinned again
    // beside the interface folders. Followed, it would be adopted as if nothing were wrong.
    nlohmann::json record = readRecord(folder);
    const std::string regions = record["variants"][0]["regions"];
    {
        UniqueFd map = pinned(folder / regions);
        REQUIRE(bpf_obj_pin(map.get(), (lab.stateRoot() / "decoy").c_str()) == 0);
    }
    record["variants"][0]["regions"] = "../decoy";
    writeRecord(folder, record);
    lab.start();
    std::string log = lab.daemon().stderrText();
    INFO(log);
    CHECK_THAT(log, Contains("interface '" + lab.ifname() + "': cannot adopt its pinned state: pinned record of "
                             "interface '" + lab.ifname() + "': baseline regions pin '../decoy' contains '/'") &&
                        Contains("nothing it names is opened; keeping its link"));
    CHECK_FALSE(log.find("adopted pinned state") != std::string::npos);
    // The link is still on the configured device: kept (no frame passes unclassified), the
    // configured program takes it over.
    const uint32_t secondLink = lab.interfaceStatus()["link_id"];
    CHECK(secondLink == firstLink);
    REQUIRE(lab.stop() == 0);

    // The same with ../../xdp/evil, which leaves the state root altogether (nothing is there: the
    // host must not even try to open it).
    record = readRecord(folder);
    record["variants"][0]["queue"] = "../../xdp/evil";
    writeRecord(folder, record);
    lab.start();
    log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("pinned record of interface '" + lab.ifname() +
                             "': baseline queue pin '../../xdp/evil' contains '/': a path, not a pin name"));
    CHECK_FALSE(log.find("xdp/evil': No such file") != std::string::npos);  // an open tried and failed
    CHECK_FALSE(log.find("adopted pinned state") != std::string::npos);
    CHECK(lab.interfaceStatus()["link_id"] == secondLink);
    // Frames are classified by the configured program.
    lab.send(benchmarkSources(0, 30));
    CHECK(lab.waitForPackets(30) == 30);
}
