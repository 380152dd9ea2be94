#include "support/foreign_programs.hpp"

#include "bpf/map.hpp"
#include "support/hook_programs.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

namespace fizzhost::test {

ForeignTc::ForeignTc(uint16_t dropPort) : object_(openTestObject("foreign_tc.bpf.o")) {
    object_.findSectionMap(".rodata")->setInitialValue(&dropPort, sizeof dropPort);
    object_.load();
    fd_ = object_.findProgram("foreign_tc")->fd();
    countsFd_ = object_.findSectionMap(".bss")->fd();
}

ForeignTc::Counts ForeignTc::counts() const {
    Counts c;
    const uint32_t zero = 0;
    if (bpf_map_lookup_elem(countsFd_, &zero, &c) != 0) throwErrno("read foreign_tc's counts", errno);
    return c;
}

ChainNext::ChainNext(const std::string& program, uint16_t dropPort, int expectedAttachType)
    : object_(openTestObject("chain_next.bpf.o")) {
    object_.findSectionMap(".rodata")->setInitialValue(&dropPort, sizeof dropPort);
    for (const auto& name : object_.programNames()) object_.findProgram(name)->setAutoload(name == program);
    auto prog = object_.findProgram(program);
    if (!prog) throw Error("chain_next.bpf.o has no program '" + program + "'", ENOENT);
    if (expectedAttachType >= 0) prog->setType(BPF_PROG_TYPE_XDP, uint32_t(expectedAttachType));
    object_.load();
    fd_ = prog->fd();
    countsFd_ = object_.findSectionMap(".bss")->fd();
    if (program == "chain_budget") {
        // It calls itself through its own array.
        const uint32_t key = 0, value = uint32_t(fd_);
        bpf::updateElem(object_.findMap("chain_budget_self")->fd(), &key, &value, "chain_budget: point at itself");
    }
}

ChainNext::Counts ChainNext::counts() const {
    Counts c;
    const uint32_t zero = 0;
    if (bpf_map_lookup_elem(countsFd_, &zero, &c) != 0) throwErrno("read chain_next's counts", errno);
    return c;
}

void ChainNext::reset() {
    const Counts zero{};
    const uint32_t key = 0;
    bpf::updateElem(countsFd_, &key, &zero, "reset chain_next's counts");
}

}  // namespace fizzhost::test
