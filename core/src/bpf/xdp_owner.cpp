#include "bpf/xdp_owner.hpp"

#include "util/text.hpp"
#include "util/unique_fd.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace fizzhost::bpf {
namespace {

std::string programName(uint32_t id) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd) return "";
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return "";
    return std::string(info.name, strnlen(info.name, sizeof info.name));
}

std::string firstLine(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    return line;
}

// The first process holding an XDP bpf_link to `programId`, by its fdinfo ("link_type:\txdp" and
// "prog_id:\t<id>"), or nullopt.
std::optional<pid_t> linkHolder(uint32_t programId) {
    const std::string wantProg = "prog_id:\t" + std::to_string(programId);
    std::error_code ec;
    for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pidText = proc.path().filename().string();
        if (pidText.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = pid_t(std::stol(pidText));
        if (pid == getpid()) continue;
        std::error_code fdEc;
        for (const auto& info : std::filesystem::directory_iterator(proc.path() / "fdinfo", fdEc)) {
            std::ifstream in(info.path());
            std::stringstream text;
            text << in.rdbuf();
            const std::string s = text.str();
            if (s.find("link_type:\txdp") == std::string::npos) continue;
            const size_t at = s.find(wantProg);
            if (at != std::string::npos && (at + wantProg.size() == s.size() || s[at + wantProg.size()] == '\n'))
                return pid;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string describeXdpOwner(uint32_t programId) {
    std::string out;
    const std::string name = programName(programId);
    out = name.empty() ? "a program" : "program '" + printable(name) + "'";
    if (auto pid = linkHolder(programId)) {
        const std::string comm = firstLine("/proc/" + std::to_string(*pid) + "/comm");
        if (comm == "fizzhost")
            out += " held by another fizzhost (pid " + std::to_string(*pid) + ")";
        else
            out += " held by process '" + printable(comm) + "' (pid " + std::to_string(*pid) + ")";
    } else {
        out += " held by no process (pinned in bpffs, or attached through netlink, e.g. ip link set xdp)";
    }
    return out;
}

}  // namespace fizzhost::bpf
