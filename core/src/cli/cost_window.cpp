#include "cli/cost_window.hpp"

#include "bpf/prog_stats.hpp"
#include "util/error.hpp"

#include <chrono>
#include <vector>

namespace fizzhost::cli {

void addCostWindow(runtime::HostStatus& status, double seconds) {
    std::vector<runtime::InterfaceStatus*> attached;
    std::vector<uint32_t> ids;
    for (auto& ifc : status.interfaces)
        if (ifc.state == runtime::InterfaceStatus::State::Attached && ifc.programId != 0) {
            attached.push_back(&ifc);
            ids.push_back(ifc.programId);
        }
    if (ids.empty()) return;
    const auto window = std::chrono::milliseconds(int64_t(seconds * 1000.0));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<bpf::RunWindow> runs;
    try {
        runs = bpf::measureRunWindow(ids, window);
    } catch (const Error& e) {
        throw Error(std::string("status --cost-window: ") + e.what() +
                        (e.code() == EPERM ? " (the kernel's run-time statistics need CAP_SYS_ADMIN)" : ""),
                    e.code());
    }
    const double measured = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < runs.size(); ++i)
        attached[i]->costWindow = runtime::CostWindow{measured, runs[i].runs, runs[i].nsPerRun()};
}

}  // namespace fizzhost::cli
