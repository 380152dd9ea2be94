// RegionSpares: a classifier loads with a regions map made ahead; a map lent to a load that was
// never committed goes back unchanged (the failure-injection tests compare map ids); one taken by a
// live instance is replaced by a new spare.
#include "bpf/pin.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/region_spares.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using runtime::RegionSpares;
using test::requirePrivilege;

namespace {

RegionSpares::InUse inUse(const runtime::Classifier& c) {
    return {bpf::mapInfo(c.regionsFd()).id, {c.regionSize(), c.cpus()}};
}

}  // namespace

TEST_CASE("a classifier loads with a spare regions map; an unused loan comes back, a used one is replaced", "[bpf]") {
    if (!requirePrivilege("load classifiers")) return;
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    RegionSpares spares;
    runtime::ClassifierOptions opts;
    opts.spares = &spares;

    auto running = runtime::Classifier::load(catalog.find("fizz"), opts);  // none held: libbpf creates it
    const RegionSpares::InUse live = inUse(*running);
    CHECK(spares.held() == 0);
    spares.settle({live});
    REQUIRE(spares.held() == 1);

    // Lent to a load that never commits: the same map is a spare again.
    const int lent = spares.lend(live.shape);
    REQUIRE(lent >= 0);
    const bpf::MapInfo spare = bpf::mapInfo(lent);
    CHECK(spare.id != live.mapId);
    CHECK(spare.valueSize == live.shape.regionSize);
    CHECK(spare.maxEntries == live.shape.cpus);
    CHECK(spares.lend(live.shape) == -1);  // one spare per shape, and it is out
    CHECK(spares.lend({live.shape.regionSize + 64, live.shape.cpus}) == -1);
    spares.settle({live});
    CHECK(spares.held() == 1);

    // The next load of that shape takes it; once live, a new spare replaces it.
    auto next = runtime::Classifier::load(catalog.find("fizzbuzz"), opts);
    CHECK(inUse(*next).mapId == spare.id);
    spares.settle({live, inUse(*next)});
    CHECK(spares.held() == 1);
    const int fresh = spares.lend(live.shape);
    REQUIRE(fresh >= 0);
    CHECK(bpf::mapInfo(fresh).id != spare.id);
    CHECK(bpf::mapInfo(fresh).id != live.mapId);

    // No live instance of a shape: its spare goes.
    spares.settle({});
    CHECK(spares.held() == 0);
}
