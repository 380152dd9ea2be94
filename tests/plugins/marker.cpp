// A valid plugin whose constructor leaves a marker file (path in FIZZTEST_MARKER): proves that
// listing a plugin folder runs no module code, and that loading one does.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#include <cstdio>
#include <cstdlib>

namespace {

__attribute__((constructor)) void leaveMarker() {
    if (const char* path = std::getenv("FIZZTEST_MARKER"))
        if (FILE* f = std::fopen(path, "w")) std::fclose(f);
}

constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
