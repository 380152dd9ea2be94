#include "measure/bpf_memory.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fizzhost::measure {
namespace {

struct Ids {
    std::set<uint32_t> maps, progs, links;
};

// The BPF ids an fdinfo names ("map_id:", "prog_id:", "link_id:"; a link names its program too).
void idsFromFdinfo(const std::filesystem::path& fdinfo, Ids& into) {
    std::ifstream in(fdinfo);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string key;
        uint32_t id = 0;
        if (!(fields >> key >> id)) continue;
        if (key == "map_id:")
            into.maps.insert(id);
        else if (key == "prog_id:")
            into.progs.insert(id);
        else if (key == "link_id:")
            into.links.insert(id);
    }
}

std::vector<uint32_t> mapsOfProgram(uint32_t progId) {
    UniqueFd fd(bpf_prog_get_fd_by_id(progId));
    if (!fd) return {};  // freed meanwhile
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return {};
    std::vector<uint32_t> ids(info.nr_map_ids);
    if (ids.empty()) return ids;
    bpf_prog_info again{};
    again.nr_map_ids = uint32_t(ids.size());
    again.map_ids = reinterpret_cast<uint64_t>(ids.data());
    len = sizeof again;
    if (bpf_obj_get_info_by_fd(fd.get(), &again, &len) != 0) return {};
    ids.resize(std::min<size_t>(ids.size(), again.nr_map_ids));
    return ids;
}

// Programs in a prog-array (looked up from user space, a slot gives the program's id).
std::vector<uint32_t> programsInArray(int mapFd, uint32_t entries) {
    std::vector<uint32_t> out;
    for (uint32_t key = 0; key < entries; ++key) {
        uint32_t prog = 0;
        if (bpf_map_lookup_elem(mapFd, &key, &prog) == 0) out.push_back(prog);
    }
    return out;
}

// Every map reachable from `progs`, following prog-arrays; fills `infos` for maps not seen yet.
std::set<uint32_t> reachableMaps(std::set<uint32_t> progs, std::map<uint32_t, MapMemory>& infos) {
    std::set<uint32_t> maps, seenProgs;
    std::vector<uint32_t> progQueue(progs.begin(), progs.end());
    while (!progQueue.empty()) {
        const uint32_t prog = progQueue.back();
        progQueue.pop_back();
        if (!seenProgs.insert(prog).second) continue;
        for (uint32_t mapId : mapsOfProgram(prog)) {
            if (!maps.insert(mapId).second) continue;
            UniqueFd fd(bpf_map_get_fd_by_id(mapId));
            if (!fd) continue;
            bpf_map_info info{};
            uint32_t len = sizeof info;
            if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
            if (info.type == BPF_MAP_TYPE_PROG_ARRAY)
                for (uint32_t p : programsInArray(fd.get(), info.max_entries)) progQueue.push_back(p);
        }
    }
    for (uint32_t id : maps) infos.try_emplace(id);
    return maps;
}

// Interface names in the network namespace of `pid`, from a thread that enters it.
std::map<int, std::string> namesIn(pid_t pid, const std::set<int>& ifindexes) {
    std::map<int, std::string> names;
    if (ifindexes.empty()) return names;
    std::thread([&] {
        UniqueFd ns(open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns || setns(ns.get(), CLONE_NEWNET) != 0) return;  // names stay unknown
        for (int index : ifindexes) {
            char name[IF_NAMESIZE] = {};
            if (if_indextoname(unsigned(index), name)) names[index] = name;
        }
    }).join();
    return names;
}

}  // namespace

uint64_t mapMemlock(int fd) {
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
    for (std::string line; std::getline(in, line);)
        if (line.rfind("memlock:", 0) == 0) return std::stoull(line.substr(8));
    throw Error("fd " + std::to_string(fd) + ": its fdinfo has no memlock line (not a BPF map?)", EINVAL);
}

BpfMemory bpfMemory(pid_t pid, const std::optional<std::filesystem::path>& stateRoot) {
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    Ids held;
    std::error_code ec;
    std::filesystem::directory_iterator fds(proc / "fd", ec);
    if (ec) throw Error("read " + (proc / "fd").string() + ": " + ec.message(), ec.value());
    for (const auto& entry : fds) idsFromFdinfo(proc / "fdinfo" / entry.path().filename(), held);
    if (stateRoot) {
        for (auto it = std::filesystem::recursive_directory_iterator(*stateRoot, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_directory(ec)) continue;
            UniqueFd pin(bpf_obj_get(it->path().c_str()));
            if (pin) idsFromFdinfo("/proc/self/fdinfo/" + std::to_string(pin.get()), held);
        }
    }

    std::map<uint32_t, MapMemory> infos;
    for (uint32_t id : held.maps) infos.try_emplace(id);
    BpfMemory out;
    std::map<uint32_t, std::set<uint32_t>> mapsOfLink;
    std::set<int> ifindexes;
    for (uint32_t linkId : held.links) {
        UniqueFd fd(bpf_link_get_fd_by_id(linkId));
        if (!fd) continue;
        bpf_link_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.type != BPF_LINK_TYPE_XDP) continue;
        InterfaceMemory ifc;
        ifc.linkId = linkId;
        ifc.ifindex = int(info.xdp.ifindex);
        ifindexes.insert(ifc.ifindex);
        out.interfaces.push_back(ifc);
        mapsOfLink[linkId] = reachableMaps({info.prog_id}, infos);
    }
    reachableMaps(held.progs, infos);  // programs held without a link (loaded for the next swap)

    for (auto& [id, m] : infos) {
        UniqueFd fd(bpf_map_get_fd_by_id(id));
        if (!fd) continue;
        bpf_map_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
        m.id = id;
        m.name = info.name;
        m.type = info.type;
        m.maxEntries = info.max_entries;
        m.valueSize = info.value_size;
        m.bytes = mapMemlock(fd.get());
        for (const auto& [link, maps] : mapsOfLink) m.links += maps.count(id) ? 1 : 0;
        out.totalBytes += m.bytes;
        if (m.links == 0) out.unattachedBytes += m.bytes;
        if (m.links > 1) out.sharedBytes += m.bytes;
        out.maps.push_back(m);
    }
    const auto names = namesIn(pid, ifindexes);
    for (auto& ifc : out.interfaces) {
        if (auto it = names.find(ifc.ifindex); it != names.end()) ifc.ifname = it->second;
        for (const auto& m : out.maps)
            if (m.links == 1 && mapsOfLink[ifc.linkId].count(m.id)) {
                ifc.bytes += m.bytes;
                ++ifc.maps;
            }
    }
    return out;
}

}  // namespace fizzhost::measure
