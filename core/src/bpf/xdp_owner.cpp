#include "bpf/xdp_owner.hpp"

#include "bpf/pin.hpp"
#include "bpf/tail_call.hpp"
#include "util/error.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
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

// "key:\tvalue" holds as a whole line of `text`.
bool hasLine(const std::string& text, const std::string& line) {
    const size_t at = text.find(line);
    return at != std::string::npos && (at == 0 || text[at - 1] == '\n') &&
           (at + line.size() == text.size() || text[at + line.size()] == '\n');
}

// The first other process with an fd whose fdinfo holds every line of `lines`, or nullopt.
std::optional<pid_t> fdHolder(const std::vector<std::string>& lines) {
    std::error_code ec;
    for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pidText = proc.path().filename().string();
        if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = pid_t(std::stol(pidText));
        if (pid == getpid()) continue;
        std::error_code fdEc;
        for (const auto& info : std::filesystem::directory_iterator(proc.path() / "fdinfo", fdEc)) {
            std::ifstream in(info.path());
            std::stringstream text;
            text << in.rdbuf();
            const std::string s = text.str();
            bool all = true;
            for (const auto& l : lines) all = all && hasLine(s, l);
            if (all) return pid;
        }
    }
    return std::nullopt;
}

// The XDP bpf_link attaching `programId` to `ifindex`, by walking every link (0 when none does).
uint32_t xdpLinkOf(uint32_t programId, int ifindex) {
    uint32_t id = 0;
    while (bpf_link_get_next_id(id, &id) == 0) {
        UniqueFd fd(bpf_link_get_fd_by_id(id));
        if (!fd) continue;  // gone meanwhile
        try {
            const LinkInfo info = linkInfo(fd.get());
            if (info.type == BPF_LINK_TYPE_XDP && info.programId == programId && int(info.ifindex) == ifindex)
                return info.id;
        } catch (const Error&) {
        }
    }
    return 0;
}

void addHolder(XdpAttachment& a) {
    if (!a.linkId) return;
    a.holder = fdHolder({"link_id:\t" + std::to_string(a.linkId)});
    if (a.holder) a.holderName = firstLine("/proc/" + std::to_string(*a.holder) + "/comm");
}

}  // namespace

std::string describeXdpOwner(uint32_t programId) {
    std::string out;
    const std::string name = programName(programId);
    out = name.empty() ? "a program" : "program '" + printable(name) + "'";
    if (auto pid = fdHolder({"link_type:\txdp", "prog_id:\t" + std::to_string(programId)})) {
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

std::vector<XdpAttachment> xdpAttachments(int ifindex) {
    LIBBPF_OPTS(bpf_xdp_query_opts, opts);
    if (int err = bpf_xdp_query(ifindex, 0, &opts)) throwErrno("query XDP on ifindex " + std::to_string(ifindex), err);
    std::vector<XdpAttachment> out;
    const std::pair<uint32_t, const char*> modes[] = {
        {opts.drv_prog_id, "native"}, {opts.skb_prog_id, "generic"}, {opts.hw_prog_id, "offloaded"}};
    for (const auto& [id, mode] : modes) {
        if (!id) continue;
        XdpAttachment a;
        a.programId = id;
        a.programName = programName(id);
        a.mode = mode;
        a.linkId = xdpLinkOf(id, ifindex);
        addHolder(a);
        out.push_back(std::move(a));
    }
    return out;
}

std::string describe(const XdpAttachment& a) {
    std::string out = (a.programName.empty() ? "a program" : "program '" + printable(a.programName) + "'") + " (id " +
                      std::to_string(a.programId) + ") in " + a.mode + " mode, ";
    if (!a.linkId) return out + "attached through netlink (no bpf_link: ip link set xdp, or bpf_xdp_attach)";
    out += "attached through bpf_link id " + std::to_string(a.linkId);
    if (!a.holder) return out + ", held by no process (pinned in bpffs)";
    if (a.holderName == "fizzhost") return out + ", held by another fizzhost (pid " + std::to_string(*a.holder) + ")";
    return out + ", held by process '" + printable(a.holderName) + "' (pid " + std::to_string(*a.holder) + ")";
}

std::string foreignXdpRefusal(const std::string& ifname, int ifindex) {
    std::vector<XdpAttachment> attached;
    try {
        attached = xdpAttachments(ifindex);
    } catch (const Error& e) {
        return "interface '" + ifname + "': the XDP hook could not be read (" + e.what() + ")";
    }
    if (attached.empty()) return "";
    const XdpAttachment& a = attached.front();
    std::string out = "interface '" + ifname + "' already has XDP " + describe(a) +
                      "; fizzhost does not replace a program it does not own. Two ways forward: run fizzhost "
                      "beside it at tc ingress (hook = \"tc\"; it then classifies what this program passes to the "
                      "stack), or let fizzhost run it after classifying each frame, its verdict still the frame's: "
                      "pin it (bpftool prog pin id " + std::to_string(a.programId) + " /sys/fs/bpf/<name>), detach it" +
                      (a.linkId ? "" : " (ip link set dev " + ifname + " xdp off)") +
                      " and set then = \"/sys/fs/bpf/<name>\"";
    // Whether the kernel would take it behind fizzhost's XDP dispatcher (jited, BPF_XDP, no frags).
    try {
        UniqueFd fd(bpf_prog_get_fd_by_id(a.programId));
        if (fd) {
            TailCallProfile dispatcher;
            dispatcher.type = BPF_PROG_TYPE_XDP;
            dispatcher.jited = true;
            dispatcher.expectedAttachType = BPF_XDP;
            dispatcher.xdpHasFrags = false;
            if (const std::string why = tailCallMismatch(dispatcher, tailCallProfile(fd.get())); !why.empty())
                out += "; but the kernel would refuse to chain this one: " + why + ", so hook = \"tc\" is the way";
        }
    } catch (const Error&) {
    }
    return out;
}

}  // namespace fizzhost::bpf
