// The spare regions map with the real daemon: the host holds one unused regions map of the shape
// its instance uses, the next reload loads with that very map (so the swap does not wait for its
// allocation) and a new spare is made after; `[output] spare_regions = false` holds none.
#include "netns/daemon_lab.hpp"
#include "support/bpf_footprint.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <set>
#include <thread>

using namespace fizzhost::test;

namespace {

// The ids of the regions maps (FIZZ_MAP_REGIONS, "fizz_regions") the daemon holds.
std::set<uint32_t> regionsMaps(pid_t pid) {
    std::set<uint32_t> out;
    for (uint32_t id : bpfFootprint(pid).maps) {
        const int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) continue;  // freed meanwhile
        bpf_map_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::string(info.name) == "fizz_regions") out.insert(id);
        ::close(fd);
    }
    return out;
}

// Polls until the daemon holds `n` regions maps (the old instance is retired after a reload).
std::set<uint32_t> waitForRegionsMaps(DaemonLab& lab, size_t n) {
    std::set<uint32_t> got;
    for (int i = 0; i < 200; ++i) {
        got = regionsMaps(lab.daemon().pid());
        if (got.size() == n) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return got;
}

}  // namespace

TEST_CASE("a reload loads with the spare regions map made ahead; spare_regions = false holds none", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    SECTION("default: one spare, taken by the next reload") {
        DaemonLab lab;
        lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
        lab.start();
        const auto before = waitForRegionsMaps(lab, 2);  // the instance's and the spare
        REQUIRE(before.size() == 2);
        lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
        REQUIRE(lab.reload());
        const auto after = waitForRegionsMaps(lab, 2);  // the new instance's (was the spare) and a new spare
        REQUIRE(after.size() == 2);
        std::set<uint32_t> kept;
        for (uint32_t id : after)
            if (before.count(id)) kept.insert(id);
        CHECK(kept.size() == 1);  // the spare became the new instance's map; the old one was freed
        CHECK(lab.stop() == 0);
    }
    SECTION("spare_regions = false") {
        DaemonLab lab;
        lab.writeConfig(interfaceTable(lab.ifname(), "fizz") + "[output]\nevents = \"-\"\nspare_regions = false\n");
        lab.start();
        const auto held = waitForRegionsMaps(lab, 1);
        INFO("regions maps held: " << held.size() << "; " << describe(bpfFootprint(lab.daemon().pid())) << "\nlog:\n"
                                   << lab.daemon().stderrText());
        CHECK(held.size() == 1);
        lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz") + "[output]\nevents = \"-\"\nspare_regions = false\n");
        REQUIRE(lab.reload());
        CHECK(waitForRegionsMaps(lab, 1).size() == 1);
        CHECK(holdsFor([&] { return regionsMaps(lab.daemon().pid()).size() == 1; }, std::chrono::milliseconds(200)));
        CHECK(lab.stop() == 0);
    }
}
