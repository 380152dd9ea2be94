// Per-CPU regions maps made before a reload needs them.
//
// Loading a classifier creates its FIZZ_MAP_REGIONS map: with the ring transport several MiB per
// CPU, which the kernel allocates, zeroes and charges to the memory cgroup page by page. That was
// the largest part of loading an instance (more than the verifier), and it sat on the path from
// SIGHUP to the new program; under memory-cgroup contention it took 10-20 ms. The host keeps one
// never-used map of each shape its live instances use, so the next load of that shape takes it
// (bpf_map__reuse_fd) and the new one is made after the commit, off that path.
//
// Cost: the memory of one more regions map per shape in use (cpus x region size); by default
// ([output] spare_regions = "auto") only for maps of at most 16 MiB, so a large node's rollout does
// not hold a third map beside its baseline and candidate.
#pragma once

#include "config/host_config.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <vector>

namespace fizzhost::runtime {

class RegionSpares {
public:
    /// A regions map's shape: `cpus` regions of `regionSize` bytes.
    struct Shape {
        uint32_t regionSize = 0;
        unsigned cpus = 0;
        bool operator==(const Shape&) const = default;
    };
    /// What settle() needs to know of one live instance.
    struct InUse {
        uint32_t mapId = 0;  // its regions map
        Shape shape;
    };

    /// The fd of a held, never-used map of `shape` that is not lent yet, now lent: the caller
    /// loads an instance with it (ClassifierOptions::spares). -1 when there is none. The map
    /// stays held here until settle() finds a live instance using it.
    int lend(Shape shape);

    /// After a start, reload or attach, with every live instance: a lent map a live instance uses
    /// is now that instance's own; one that none uses (the reload failed before its program was
    /// attached, so nothing ever wrote to it) is a spare again, the same map. Then keeps exactly
    /// one spare of each shape in `live`, creating what is missing. Logs a warning and carries on
    /// when a map cannot be created (the next load creates its own). Never throws but bad_alloc.
    void settle(const std::vector<InUse>& live);

    /// The live instances whose shapes `policy` keeps a spare of ([output] spare_regions): all
    /// (on), none (off), or those whose regions map is at most config::kAutoSpareMaxBytes (auto).
    static std::vector<InUse> keptFor(config::SpareRegions policy, std::vector<InUse> live);

    /// Maps held (lent or not), for tests.
    size_t held() const { return spares_.size(); }

private:
    struct Spare {
        UniqueFd fd;
        uint32_t id = 0;
        Shape shape;
        bool lent = false;
    };
    std::vector<Spare> spares_;
};

}  // namespace fizzhost::runtime
