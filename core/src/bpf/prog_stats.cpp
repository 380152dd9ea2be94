#include "bpf/prog_stats.hpp"

#include "bpf/pin.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>

#include <thread>

namespace fizzhost::bpf {

ProgramStats programStats(int progFd) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0) throwErrno("program info", errno);
    return {info.id, info.name, info.run_cnt, info.run_time_ns};
}

UniqueFd enableRunTimeStats() {
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd < 0) throwErrno("enable BPF run-time statistics", errno);
    return UniqueFd(fd);
}

std::vector<RunWindow> measureRunWindow(const std::vector<uint32_t>& ids, std::chrono::milliseconds window) {
    // The programs are held open for the window: an id read at the end names the same program.
    std::vector<UniqueFd> fds;
    std::vector<RunWindow> out;
    for (uint32_t id : ids) {
        fds.push_back(programById(id));
        out.push_back({id});
    }
    const UniqueFd stats = enableRunTimeStats();
    for (size_t i = 0; i < fds.size(); ++i) {
        const ProgramStats s = programStats(fds[i].get());
        out[i].runs = s.runCount;
        out[i].ns = s.runTimeNs;
    }
    std::this_thread::sleep_for(window);
    for (size_t i = 0; i < fds.size(); ++i) {
        const ProgramStats s = programStats(fds[i].get());
        out[i].runs = s.runCount - out[i].runs;
        out[i].ns = s.runTimeNs - out[i].ns;
    }
    return out;
}

}  // namespace fizzhost::bpf
