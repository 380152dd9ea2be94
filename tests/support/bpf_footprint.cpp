#include "support/bpf_footprint.hpp"

#include "util/unique_fd.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fizzhost::test {
namespace {

std::string join(const std::set<uint32_t>& ids) {
    std::string s;
    for (uint32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return "{" + s + "}";
}

}  // namespace

BpfFootprint bpfFootprint(pid_t pid) {
    BpfFootprint f;
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    std::vector<uint32_t> progQueue, mapQueue;
    for (const auto& entry : std::filesystem::directory_iterator(proc / "fd")) {
        ++f.fds;
        std::error_code ec;
        auto target = std::filesystem::read_symlink(entry.path(), ec).string();
        // Sockets and pipes carry an inode number that says nothing about what they are.
        if (auto bracket = target.find(":["); bracket != std::string::npos) target = target.substr(0, bracket);
        f.fdTargets.insert(target);
        std::ifstream info(proc / "fdinfo" / entry.path().filename());
        for (std::string line; std::getline(info, line);) {
            std::istringstream in(line);
            std::string key;
            uint32_t id = 0;
            if (!(in >> key >> id)) continue;
            if (key == "prog_id:") progQueue.push_back(id);
            else if (key == "map_id:") mapQueue.push_back(id);
            else if (key == "link_id:") f.links.insert(id);
        }
    }
    // Follow references until nothing new turns up.
    while (!progQueue.empty() || !mapQueue.empty()) {
        if (!progQueue.empty()) {
            const uint32_t id = progQueue.back();
            progQueue.pop_back();
            if (!f.progs.insert(id).second) continue;
            UniqueFd fd(bpf_prog_get_fd_by_id(id));
            if (!fd) continue;  // freed meanwhile
            uint32_t mapIds[64] = {};
            bpf_prog_info info{};
            info.nr_map_ids = 64;
            info.map_ids = reinterpret_cast<uint64_t>(mapIds);
            uint32_t len = sizeof info;
            REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
            for (uint32_t i = 0; i < std::min<uint32_t>(info.nr_map_ids, 64); ++i) mapQueue.push_back(mapIds[i]);
        } else {
            const uint32_t id = mapQueue.back();
            mapQueue.pop_back();
            if (!f.maps.insert(id).second) continue;
            UniqueFd fd(bpf_map_get_fd_by_id(id));
            if (!fd) continue;
            bpf_map_info info{};
            uint32_t len = sizeof info;
            REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
            if (info.type != BPF_MAP_TYPE_PROG_ARRAY) continue;
            // Looked up from user space, a prog-array slot gives the id of the program in it.
            for (uint32_t key = 0; key < info.max_entries; ++key) {
                uint32_t prog = 0;
                if (bpf_map_lookup_elem(fd.get(), &key, &prog) == 0) progQueue.push_back(prog);
            }
        }
    }
    return f;
}

std::string describe(const BpfFootprint& f) {
    std::string fds;
    for (const auto& t : f.fdTargets) fds += (fds.empty() ? "" : ", ") + t;
    return std::to_string(f.fds) + " fds (" + fds + "); progs " + join(f.progs) + "; maps " + join(f.maps) + "; links " +
           join(f.links);
}

}  // namespace fizzhost::test
