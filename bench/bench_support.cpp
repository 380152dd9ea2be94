#include "bench_support.hpp"

#include <cstdlib>
#include <vector>

namespace fizzhost::bench {
namespace {

// A function-local static: registrars are added from other files' static initializers, whose order
// relative to this file's is unspecified.
std::vector<void (*)()>& registrars() {
    static std::vector<void (*)()> list;
    return list;
}

}  // namespace

const plugin::Catalog& catalog() {
    static const plugin::Catalog scanned = [] {
        const char* dir = std::getenv("FIZZHOST_BENCH_PLUGIN_DIR");
        // A build tree is a development setting: the root-ownership rule for installed plugin
        // folders does not apply.
        plugin::Catalog c(dir && *dir ? dir : FIZZHOST_PLUGIN_DIR, plugin::FilePolicy::forProcess(true));
        c.rescan();
        return c;
    }();
    return scanned;
}

bool addRegistrar(void (*registrar)()) {
    registrars().push_back(registrar);
    return true;
}

void runRegistrars() {
    for (auto* r : registrars()) r();
}

}  // namespace fizzhost::bench
