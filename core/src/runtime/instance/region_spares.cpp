#include "runtime/instance/region_spares.hpp"

#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace fizzhost::runtime {

int RegionSpares::lend(Shape shape) {
    for (auto& s : spares_)
        if (!s.lent && s.shape == shape) {
            s.lent = true;
            return s.fd.get();
        }
    return -1;
}

std::vector<RegionSpares::InUse> RegionSpares::keptFor(config::SpareRegions policy, std::vector<InUse> live) {
    if (policy == config::SpareRegions::Off) live.clear();
    if (policy == config::SpareRegions::Auto)
        std::erase_if(live, [](const InUse& u) {
            return uint64_t(u.shape.regionSize) * u.shape.cpus > config::kAutoSpareMaxBytes;
        });
    return live;
}

void RegionSpares::settle(const std::vector<InUse>& live) {
    auto used = [&](uint32_t id) {
        return std::any_of(live.begin(), live.end(), [&](const InUse& u) { return u.mapId == id; });
    };
    auto wanted = [&](const Shape& shape) {
        return std::any_of(live.begin(), live.end(), [&](const InUse& u) { return u.shape == shape; });
    };
    // Taken by a live instance: its own now (it holds its own fd). Lent but not taken: spare again.
    // A shape no live instance uses any more: let go.
    std::erase_if(spares_, [&](const Spare& s) { return (s.lent && used(s.id)) || !wanted(s.shape); });
    for (auto& s : spares_) s.lent = false;
    for (const auto& u : live) {
        if (std::any_of(spares_.begin(), spares_.end(), [&](const Spare& s) { return s.shape == u.shape; })) continue;
        try {
            // What libbpf creates for the FIZZ_MAP_REGIONS of <fizz/classifier.h>, sized as the
            // classifier sizes it (Classifier::load).
            UniqueFd fd = bpf::createMap({BPF_MAP_TYPE_ARRAY, FIZZ_MAP_REGIONS, sizeof(__u32), u.shape.regionSize,
                                          u.shape.cpus, BPF_F_MMAPABLE});
            const uint32_t id = bpf::mapInfo(fd.get()).id;
            spares_.push_back({std::move(fd), id, u.shape, false});
        } catch (const Error& e) {
            spdlog::warn("a spare regions map of {} x {} bytes could not be made ahead ({}); the next reload "
                         "creates its own",
                         u.shape.cpus, u.shape.regionSize, e.what());
        }
    }
}

}  // namespace fizzhost::runtime
