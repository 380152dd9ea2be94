#include "netns/crash_accounting.hpp"

#include "support/config_text.hpp"
#include "support/reference.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <map>

namespace fizzhost::test {

std::vector<uint32_t> AccountedSources::next(size_t count) {
    std::vector<uint32_t> out;
    while (out.size() < count) {
        // 198.18.0.0/15 holds 131072 addresses: a run hands out at most a third of them.
        if (index_ >= (1u << 17)) throw std::runtime_error("AccountedSources: 198.18.0.0/15 used up");
        const uint32_t src = benchmarkSources(index_++, 1).front();
        if (referenceKind("fizz", src) && referenceKind("fizzbuzz", src) && referenceKind("fibonacci", src))
            out.push_back(src);
    }
    handed_ += out.size();
    return out;
}

SteadyTraffic::SteadyTraffic(DaemonLab& lab, AccountedSources& sources, size_t perBatch, unsigned everyMs)
    : lab_(lab), sources_(sources) {
    thread_ = std::thread([this, perBatch, everyMs] {
        while (!done_) {
            sent_ += lab_.send(sources_.next(perBatch));
            std::this_thread::sleep_for(std::chrono::milliseconds(everyMs));  // a rate, not an ordering
        }
    });
}

SteadyTraffic::~SteadyTraffic() { stop(); }

void SteadyTraffic::stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
}

FrameBooks closeBooks(DaemonLab& lab, uint64_t sent, uint64_t lostBefore) {
    FrameBooks b;
    b.sent = sent;
    const auto ifc = lab.interfaceStatus();
    uint64_t lostAtStart = 0;
    if (ifc.contains("lost_at_start")) {
        lostAtStart = ifc["lost_at_start"]["messages"].get<uint64_t>();
        for (const auto& r : ifc["lost_at_start"]["reasons"]) b.lossReasons.push_back(r.get<std::string>());
    }
    const uint64_t dropped = ifc["totals"]["dropped"].get<uint64_t>();
    b.countedLost = lostBefore + lostAtStart + dropped;
    // Everything not counted as lost arrives: wait for it, then make sure nothing more comes.
    const uint64_t want = sent > b.countedLost ? sent - b.countedLost : 0;
    auto events = lab.waitForEvents(want, std::chrono::seconds(20));
    holdsFor([&] { return lab.events().size() == events.size(); }, std::chrono::milliseconds(300));
    events = lab.events();
    std::map<uint32_t, unsigned> seen;
    for (const auto& e : events) ++seen[e.src];
    for (const auto& [src, n] : seen) b.duplicated += n - 1;
    b.delivered = seen.size();
    const uint64_t accounted = b.delivered + b.countedLost;
    b.silentlyLost = sent > accounted ? sent - accounted : 0;
    return b;
}

size_t unknownLosses(const std::string& err) {
    size_t n = 0;
    for (size_t at = err.find("number unknown"); at != std::string::npos; at = err.find("number unknown", at + 1)) ++n;
    return n;
}

std::string crashConfig(const DaemonLab& lab, const std::string& classifier, const std::string& candidate,
                        unsigned percent) {
    // Decoders confined, as by default: messages in a worker or the output queue at a kill stay in
    // the ring until written, and the next host reads them again.
    const std::string service = "[service]\non_exit = \"keep\"\n";
    if (candidate.empty()) return service + interfaceTable(lab.ifname(), classifier);
    return service + rolloutTable(lab.ifname(), classifier,
                                  "candidate = \"" + candidate + "\"\npercent = " + std::to_string(percent) + "\n");
}

void expectKilled(DaemonLab& lab) {
    const auto rc = lab.daemon().waitExit(std::chrono::seconds(20));
    INFO(lab.daemon().stderrText());
    REQUIRE(rc == 128 + SIGKILL);
}

}  // namespace fizzhost::test
