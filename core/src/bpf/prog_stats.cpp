#include "bpf/prog_stats.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>

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

}  // namespace fizzhost::bpf
