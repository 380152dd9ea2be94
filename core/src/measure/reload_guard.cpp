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
// kept), in 3 interleaved rounds (1 when the first is clear: kClearMargin) of 1000 runs per frame
// and program: ~100k runs each, ~20 ms for a 200 ns program. Fewer runs per call would not be
// cheaper per run: each test-run call pays a few microseconds of cold caches inside the kernel's
// timed loop, ~3 ns per run at 1000 runs, which would flatten the ratio the guard judges.
constexpr size_t kFrameStride = 8;
constexpr unsigned kRounds = 3;
constexpr unsigned kRepeat = 1000;
// Private instances kept between decisions: the running program, the last incoming one, and one
// more, so that the next reload (whose running program was the last incoming) loads at most one.
constexpr size_t kKeptInstances = 3;
// A ratio this far from the limit (either side) after the first round is the verdict: the rounds
// of one decision differ by a few percent, so the others could not move it across the limit. Only
// a ratio nearer the limit runs the remaining rounds. Clear cases (a plugin several times slower,
// or one as fast) decide in a third of the time.
constexpr double kClearMargin = 1.25;

// As benchPrograms takes it: the middle round (the mean of the two middle ones).
double medianOf(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

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
        const BenchProgram pa = benchProgramFor(a, running.name()), pb = benchProgramFor(b, incoming.name());
        BenchSettings first = settings_;
        first.rounds = 1;
        auto figures = benchPrograms({pa, pb}, first);
        double ratio = figures[1].nsPerPacket / figures[0].nsPerPacket;
        unsigned rounds = 1;
        if (ratio <= maxSlowdown_ * kClearMargin && ratio >= maxSlowdown_ / kClearMargin) {
            // The other rounds, in the order one run of all of them would have had: each round
            // starts with the other program than the last (benchPrograms rotates by round).
            BenchSettings rest = settings_;
            rest.rounds = kRounds - 1;
            const auto more = benchPrograms({pb, pa}, rest);
            figures[0].roundNs.insert(figures[0].roundNs.end(), more[1].roundNs.begin(), more[1].roundNs.end());
            figures[1].roundNs.insert(figures[1].roundNs.end(), more[0].roundNs.begin(), more[0].roundNs.end());
            for (auto& f : figures) f.nsPerPacket = medianOf(f.roundNs);
            ratio = figures[1].nsPerPacket / figures[0].nsPerPacket;
            rounds = kRounds;
        }
        cache_->trim();
        const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        const auto loadMs = std::chrono::duration<double, std::milli>(loadedAt - start).count();
        const std::string text = fmt::format(
            "reload guard on the '{}' mix: running {} {} {:.1f} ns/packet, incoming {} {} {:.1f} ns/packet "
            "({:.2f}x, limit {:.2f}x; decided in {:.0f} ms after {} round(s), {} program(s) loaded for it in {:.0f} ms)",
            mix_, running.name(), running.version(), figures[0].nsPerPacket, incoming.name(), incoming.version(),
            figures[1].nsPerPacket, ratio, maxSlowdown_, ms, rounds, loaded, loadMs);
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
