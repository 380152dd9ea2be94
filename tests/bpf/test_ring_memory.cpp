// The ring's memory as the kernel counts it: a classifier loaded with the default rate, and with a
// configured one, has a regions map of exactly the size the documented rule gives for this
// machine's possible CPUs (docs/performance.md), read both as `bpftool map show -j` prints it
// (bytes_memlock) and from the kernel's fdinfo (memlock); and spare_regions' policy.
#include "bpf/cpu_regions.hpp"
#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "measure/bpf_memory.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/region_spares.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

using namespace fizzhost;
using test::requirePrivilege;

namespace {

// What `bpftool map show id ID -j` says the map costs (bytes_memlock).
uint64_t bpftoolMemlock(uint32_t id) {
    const std::string cmd = "bpftool map show id " + std::to_string(id) + " -j";
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    REQUIRE(p);
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p.get())) > 0;) out.append(buf, n);
    INFO(cmd << ": " << out);
    const auto j = nlohmann::json::parse(out);
    REQUIRE(j.contains("bytes_memlock"));
    return j.at("bytes_memlock").get<uint64_t>();
}

uint64_t pageAligned(uint64_t bytes) {
    const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

// The regions map of a classifier loaded with `opts` costs what the rule says, to the page: the
// kernel charges an mmapable array its values rounded up to pages plus one page for the array.
void checkRegionsMemory(const plugin::Catalog& catalog, const runtime::ClassifierOptions& opts, uint64_t wantSlots) {
    auto c = runtime::Classifier::load(catalog.find("fizz"), opts);
    const unsigned cpus = bpf::possibleCpus();
    CHECK(c->cpus() == cpus);
    CHECK(c->ringSlots() == wantSlots);
    const uint64_t formula = runtime::regionsMapBytes(c->plugin().messageSize(), wantSlots, cpus);
    const uint64_t fdinfo = measure::mapMemlock(c->regionsFd());
    const uint64_t shown = bpftoolMemlock(bpf::mapInfo(c->regionsFd()).id);
    INFO("formula " << formula << " bytes, fdinfo memlock " << fdinfo << ", bpftool bytes_memlock " << shown);
    CHECK(shown == fdinfo);
    CHECK(fdinfo == pageAligned(formula) + uint64_t(sysconf(_SC_PAGESIZE)));
}

}  // namespace

TEST_CASE("the regions map costs what the sizing rule says, by bpftool and fdinfo, on this machine's CPUs", "[bpf]") {
    if (!requirePrivilege("load classifiers and read their maps with bpftool")) return;
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    const unsigned cpus = bpf::possibleCpus();
    SECTION("the default rate: 14.88 M/s for 20 ms over min(8, possible CPUs)") {
        runtime::ClassifierOptions opts;
        const uint64_t slots = uint64_t(std::ceil(14.88e6 * 0.020 / std::min(8u, cpus)));
        checkRegionsMemory(catalog, opts, slots);
    }
    SECTION("a configured rate") {
        runtime::ClassifierOptions opts;
        opts.ringRate = config::RingRate{1e6, 10, 1};  // 10,000 messages on one CPU
        checkRegionsMemory(catalog, opts, 10000);
    }
    SECTION("ring_slots wins over the rate") {
        runtime::ClassifierOptions opts;
        opts.ringSlots = 4096;
        opts.ringRate = config::RingRate{1e6, 10, 1};
        checkRegionsMemory(catalog, opts, 4096);
    }
}

TEST_CASE("spare_regions: on keeps a spare of every shape, off none, auto those of maps up to 16 MiB", "[unit]") {
    using runtime::RegionSpares;
    // A 2-CPU map of 300,000 slots (4.6 MiB) and a 128-CPU map of the default 37,200 (36.4 MiB).
    const RegionSpares::InUse small{1, {uint32_t(bpf::regionBytes(8, 300000)), 2}};
    const RegionSpares::InUse large{2, {uint32_t(bpf::regionBytes(8, 37200)), 128}};
    const RegionSpares::InUse edge{3, {uint32_t(config::kAutoSpareMaxBytes / 4), 4}};  // exactly 16 MiB
    const std::vector<RegionSpares::InUse> live = {small, large, edge};
    CHECK(RegionSpares::keptFor(config::SpareRegions::On, live).size() == 3);
    CHECK(RegionSpares::keptFor(config::SpareRegions::Off, live).empty());
    const auto kept = RegionSpares::keptFor(config::SpareRegions::Auto, live);
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].mapId == 1);
    CHECK(kept[1].mapId == 3);
}
