#include "runtime/reload_guard.hpp"

#include "runtime/program_bench.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

ReloadGuard makeReloadGuard(double maxSlowdown, std::string mix) {
    return [maxSlowdown, mix](const plugin::Plugin& running, const plugin::Plugin& incoming) {
        BenchSettings settings;
        settings.frames = mixFrames(mix);
        settings.rounds = 5;
        settings.repeat = 2000;  // ~2.5M runs per program: tens of ms, well inside a reload
        // Fresh private instances of both, same transport: the live programs, their counters and
        // their queues are never touched by the measurement.
        auto a = Classifier::load(running.shared_from_this(),
                                  benchClassifierOptions(running, FIZZ_TRANSPORT_RING, settings));
        auto b = Classifier::load(incoming.shared_from_this(),
                                  benchClassifierOptions(incoming, FIZZ_TRANSPORT_RING, settings));
        auto figures = benchPrograms({benchProgramFor(*a, running.name()), benchProgramFor(*b, incoming.name())},
                                     settings);
        const double ratio = figures[1].nsPerPacket / figures[0].nsPerPacket;
        const std::string text = fmt::format(
            "reload guard on the '{}' mix: running {} {} {:.1f} ns/packet, incoming {} {} {:.1f} ns/packet "
            "({:.2f}x, limit {:.2f}x)",
            mix, running.name(), running.version(), figures[0].nsPerPacket, incoming.name(), incoming.version(),
            figures[1].nsPerPacket, ratio, maxSlowdown);
        if (ratio > maxSlowdown) throw Error(text + ": refusing the swap", ECANCELED);
        spdlog::info("{}: accepted", text);
    };
}

}  // namespace fizzhost::runtime
