#include "support/bpffs_dir.hpp"

#include "runtime/pinned/pin_store.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fizzhost::test {

BpffsDir::BpffsDir() {
    std::string tmpl = "/sys/fs/bpf/fizzhost-test-" + std::to_string(getpid()) + "-XXXXXX";
    if (!mkdtemp(tmpl.data()))
        throw std::runtime_error("mkdtemp " + tmpl + " on bpffs: " + std::strerror(errno));
    path_ = tmpl;
}

BpffsDir::~BpffsDir() {
    try {
        auto pins = runtime::PinStore::openUnlocked(path_);
        for (const auto& name : pins.interfaces()) pins.remove(name);
    } catch (...) {
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

size_t BpffsDir::entries() const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

}  // namespace fizzhost::test
