#include "measure/reload_guard.hpp"

#include "measure/program_bench.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

namespace fizzhost::measure {
namespace {

// How much a decision measures: every 8th frame of the mix (32 of 256, the mix's proportions
// kept), in 3 interleaved rounds of 1000 runs per frame and program: ~100k runs each, ~20 ms for a
// 200 ns program. Fewer runs per call would not be cheaper per run: each test-run call pays a
// few microseconds of cold caches inside the kernel's timed loop, ~3 ns per run at 1000 runs, which
// would flatten the ratio the guard judges.
constexpr size_t kFrameStride = 8;
constexpr unsigned kRounds = 3;
constexpr unsigned kRepeat = 1000;
// Private instances kept between decisions: the running program, the last incoming one, and one
// more, so that the next reload (whose running program was the last incoming) loads at most one.
constexpr size_t kKeptInstances = 3;

// A private, never attached instance of a plugin's program, held in the kernel's XDP dispatcher
// (DispatcherHold) for as long as it is kept, so no test run waits for an RCU grace period.
struct BenchInstance {
    std::shared_ptr<const plugin::Plugin> plugin;
    std::unique_ptr<runtime::Classifier> classifier;
    std::unique_ptr<DispatcherHold> hold;
};

// The private instances kept between decisions. One per process, shared by every guard made while
// another exists: the daemon makes a new guard for each reload's config, and the instances do not
// depend on its limit or mix. Reloads run one at a time; the mutex only makes sure.
class InstanceCache {
public:
    static std::shared_ptr<InstanceCache> shared() {
        static std::mutex mutex;
        static std::weak_ptr<InstanceCache> current;
        std::lock_guard lock(mutex);
        auto cache = current.lock();
        if (!cache) current = cache = std::make_shared<InstanceCache>();
        return cache;
    }

    std::mutex& mutex() { return mutex_; }

    // Makes sure both programs have a kept instance and returns how many had to be loaded.
    // Loading (the verifier) and holding (an RCU grace period) are slow: two are made at once.
    size_t prepare(const plugin::Plugin& running, const plugin::Plugin& incoming, const BenchSettings& settings) {
        std::vector<const plugin::Plugin*> missing;
        for (const plugin::Plugin* p : {&running, &incoming})
            if (!kept(*p) && (missing.empty() || !samePrograms(*missing[0], *p))) missing.push_back(p);
        if (missing.size() == 2) {
            auto other = std::async(std::launch::async, [&] { return load(*missing[0], settings); });
            BenchInstance in = load(*missing[1], settings);
            kept_.push_front(other.get());
            kept_.push_front(std::move(in));
        } else if (missing.size() == 1) {
            kept_.push_front(load(*missing[0], settings));
        }
        return missing.size();
    }

    // The kept instance of `plugin` (prepare() first), moved to the front (most recently used).
    runtime::Classifier& use(const plugin::Plugin& plugin) {
        auto it = find(plugin);
        std::rotate(kept_.begin(), it, it + 1);
        return *kept_.front().classifier;
    }

    // Lets go of the least recently used instances beyond kKeptInstances.
    void trim() {
        while (kept_.size() > kKeptInstances) kept_.pop_back();
    }

private:
    // A kept instance runs the same program when the plugin's BPF object and what the host reads
    // from it are the same: each reload rescans the plugin folder into new Plugin objects, so the
    // objects themselves rarely are.
    static bool samePrograms(const plugin::Plugin& a, const plugin::Plugin& b) {
        return &a == &b || (a.program() == b.program() && a.messageMap() == b.messageMap() &&
                            a.messageSize() == b.messageSize() && std::ranges::equal(a.bpfObject(), b.bpfObject()));
    }
    std::deque<BenchInstance>::iterator find(const plugin::Plugin& plugin) {
        return std::find_if(kept_.begin(), kept_.end(),
                            [&](const BenchInstance& i) { return samePrograms(*i.plugin, plugin); });
    }
    bool kept(const plugin::Plugin& plugin) { return find(plugin) != kept_.end(); }

    // A fresh private instance (ring transport sized for the settings): the live programs, their
    // counters and their queues are never touched by the measurement.
    static BenchInstance load(const plugin::Plugin& plugin, const BenchSettings& settings) {
        BenchInstance i;
        i.plugin = plugin.shared_from_this();
        i.classifier = runtime::Classifier::load(i.plugin, benchClassifierOptions(plugin, FIZZ_TRANSPORT_RING, settings));
        const int fd = i.classifier->programFd();
        i.hold = std::make_unique<DispatcherHold>(std::span<const int>(&fd, 1));
        return i;
    }

    std::mutex mutex_;
    std::deque<BenchInstance> kept_;  // most recently used first
};

// One guard: its limit and mix, over the shared instances.
class GuardBench {
public:
    GuardBench(double maxSlowdown, std::string mix)
        : maxSlowdown_(maxSlowdown), mix_(std::move(mix)), cache_(InstanceCache::shared()) {
        auto frames = mixFrames(mix_);
        for (size_t i = 0; i < frames.size(); i += kFrameStride) settings_.frames.push_back(std::move(frames[i]));
        settings_.rounds = kRounds;
        settings_.repeat = kRepeat;
    }

    void decide(const plugin::Plugin& running, const plugin::Plugin& incoming) {
        std::lock_guard lock(cache_->mutex());
        const auto start = std::chrono::steady_clock::now();
        const size_t loaded = cache_->prepare(running, incoming, settings_);
        const auto loadedAt = std::chrono::steady_clock::now();
        runtime::Classifier& a = cache_->use(running);
        runtime::Classifier& b = cache_->use(incoming);
        const auto figures =
            benchPrograms({benchProgramFor(a, running.name()), benchProgramFor(b, incoming.name())}, settings_);
        cache_->trim();
        const double ratio = figures[1].nsPerPacket / figures[0].nsPerPacket;
        const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        const auto loadMs = std::chrono::duration<double, std::milli>(loadedAt - start).count();
        const std::string text = fmt::format(
            "reload guard on the '{}' mix: running {} {} {:.1f} ns/packet, incoming {} {} {:.1f} ns/packet "
            "({:.2f}x, limit {:.2f}x; decided in {:.0f} ms, {} program(s) loaded for it in {:.0f} ms)",
            mix_, running.name(), running.version(), figures[0].nsPerPacket, incoming.name(), incoming.version(),
            figures[1].nsPerPacket, ratio, maxSlowdown_, ms, loaded, loadMs);
        if (ratio > maxSlowdown_) throw Error(text + ": refusing the swap", ECANCELED);
        spdlog::info("{}: accepted", text);
    }

private:
    const double maxSlowdown_;
    const std::string mix_;
    BenchSettings settings_;
    std::shared_ptr<InstanceCache> cache_;
};

}  // namespace

runtime::ReloadGuard makeReloadGuard(double maxSlowdown, std::string mix) {
    auto bench = std::make_shared<GuardBench>(maxSlowdown, std::move(mix));
    return [bench](const plugin::Plugin& running, const plugin::Plugin& incoming) { bench->decide(running, incoming); };
}

}  // namespace fizzhost::measure
