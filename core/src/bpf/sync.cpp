#include "bpf/sync.hpp"

#include "bpf/map.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <mutex>

namespace fizzhost::bpf {

void waitForInflightPrograms() {
    // One process-wide pair of maps: an array-of-maps with one slot, and an inner map to store.
    static std::mutex mutex;
    static UniqueFd inner, outer;
    std::lock_guard lock(mutex);
    if (!outer) {
        inner = createMap({BPF_MAP_TYPE_ARRAY, "fizz_sync_in", 4, 4, 1});
        outer = createMap({BPF_MAP_TYPE_ARRAY_OF_MAPS, "fizz_sync", 4, 4, 1, 0, inner.get()});
    }
    uint32_t key = 0;
    uint32_t value = static_cast<uint32_t>(inner.get());
    updateElem(outer.get(), &key, &value, "wait for in-flight BPF programs (map-in-map update)");
}

}  // namespace fizzhost::bpf
