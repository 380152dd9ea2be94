// `fizzhost classify`: runs a plugin's real BPF program on frames from chosen source addresses
// (BPF_PROG_TEST_RUN) and prints what its decoder makes of the messages, one JSON object a line.
#include "cli/commands.hpp"

#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/classifier.hpp"
#include "runtime/frames.hpp"
#include "runtime/transport_reader.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace fizzhost::cli {

int classifyCommand(const ClassifyOptions& opts) {
    std::vector<uint32_t> addrs;
    for (const auto& a : opts.addresses) {
        auto v = runtime::parseAddress(a);
        if (!v) {
            spdlog::error("classify: '{}' is not an IPv4 address (dotted quad, or a 32-bit number)", a);
            return 2;
        }
        addrs.push_back(*v);
    }
    plugin::Catalog catalog(opts.dir.resolved(), plugin::FilePolicy::forProcess(opts.dir.allowInsecure));
    catalog.rescan();
    auto plugin = catalog.find(opts.plugin);
    runtime::ClassifierOptions copts;
    copts.ringSlots = 1024;  // one frame at a time, drained after each
    auto classifier = runtime::Classifier::load(plugin, copts);
    runtime::TransportReader reader(*classifier);
    std::vector<fizzhost_event> events;
    size_t undecodable = 0;

    auto classifyOne = [&](uint32_t addr) {
        auto frame = runtime::udpFrame(addr);
        auto result = bpf::testRun(classifier->programFd(), frame);
        events.clear();
        reader.drain(SIZE_MAX, [&](const void* data, uint32_t size) {
            fizzhost_event e{};
            if (plugin->decode(data, size, e) == 0) events.push_back(e);
            else ++undecodable;
        });
        const std::string src = runtime::formatAddress(addr);
        if (events.empty()) fmt::print("{{\"src\":\"{}\",\"kind\":null}}\n", src);
        for (const auto& e : events)
            fmt::print("{{\"src\":\"{}\",\"kind\":\"{}\"}}\n", runtime::formatAddress(e.src_addr), plugin->kindName(e.kind));
        if (result.retval != 2 /* XDP_PASS */)
            spdlog::warn("classify: {} returned verdict {} for {} (classifiers should pass every frame)",
                         plugin->name(), result.retval, src);
    };

    if (!opts.addresses.empty()) {
        for (uint32_t a : addrs) classifyOne(a);
    } else {
        std::string line;
        size_t lineNo = 0;
        while (std::getline(std::cin, line)) {
            ++lineNo;
            auto first = line.find_first_not_of(" \t\r");
            if (first == std::string::npos || line[first] == '#') continue;
            auto last = line.find_last_not_of(" \t\r");
            std::string text = line.substr(first, last - first + 1);
            auto v = runtime::parseAddress(text);
            if (!v) {
                spdlog::error("classify: stdin line {}: '{}' is not an IPv4 address", lineNo, text);
                return 2;
            }
            classifyOne(*v);
        }
    }
    std::fflush(stdout);
    if (undecodable)
        spdlog::error("classify: {} message(s) from {} could not be decoded", undecodable, plugin->name());
    return undecodable ? 1 : 0;
}

}  // namespace fizzhost::cli
