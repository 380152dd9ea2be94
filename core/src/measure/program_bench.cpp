#include "measure/program_bench.hpp"

#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "bpf/prog_stats.hpp"
#include "bpf/test_run.hpp"
#include "bpf/xdp_link.hpp"
#include "measure/frames.hpp"
#include "runtime/instance/transport_reader.hpp"
#include "util/error.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <bit>
#include <exception>
#include <latch>
#include <mutex>
#include <thread>

// The floor program, embedded by bpf/CMakeLists.txt (fizzhost_embed_object).
extern "C" const unsigned char fizzhost_empty_object[];
extern "C" const unsigned char fizzhost_empty_object_end[];
extern "C" const unsigned char fizzhost_parse_count_object[];
extern "C" const unsigned char fizzhost_parse_count_object_end[];

namespace fizzhost::measure {
namespace {

constexpr const char* kFloorProgramName = "fizz_empty";
constexpr const char* kParseCountProgramName = "fizz_parse_count";
// Transport memory the bench is willing to allocate for one program (queue, or one ring).
constexpr uint64_t kMaxTransportBytes = 256ull << 20;
// The warm-up call per program (faults in the program's maps and the frame copy path) is short.
constexpr unsigned kWarmupRepeat = 1000;

struct Call {
    uint32_t program;
    uint32_t frame;
    int round;  // -1: warm-up, not measured
};

// The sequence of test-run calls every thread makes: a warm-up call per program, then per round and
// frame every program in turn, the first program rotating with the round so none always runs first.
std::vector<Call> makeSchedule(size_t programs, size_t frames, unsigned rounds) {
    std::vector<Call> calls;
    calls.reserve(programs + size_t(rounds) * frames * programs);
    for (size_t p = 0; p < programs; ++p) calls.push_back({uint32_t(p), 0, -1});
    for (unsigned r = 0; r < rounds; ++r)
        for (size_t f = 0; f < frames; ++f)
            for (size_t i = 0; i < programs; ++i) calls.push_back({uint32_t((i + r) % programs), uint32_t(f), int(r)});
    return calls;
}

// The first `count` CPUs this process may run on. Throws Error when there are fewer.
std::vector<int> pickCpus(unsigned count) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) throwErrno("bench: read CPU affinity", errno);
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < count; ++c)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    if (cpus.size() < count)
        throw Error("bench: asked to run on " + std::to_string(count) + " CPUs at once, but this process may use only " +
                        std::to_string(CPU_COUNT(&allowed)) + " (lower --cpus)",
                    EINVAL);
    return cpus;
}

void pinToCpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // pid 0: the calling thread only.
    if (sched_setaffinity(0, sizeof set, &set) != 0) throwErrno("bench: pin thread to CPU " + std::to_string(cpu), errno);
}

uint64_t readDropped(const BenchProgram& p) { return p.dropped ? p.dropped() : 0; }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void validate(const std::vector<BenchProgram>& programs, const BenchSettings& s) {
    if (programs.empty()) throw Error("bench: no program to measure", EINVAL);
    for (const auto& p : programs)
        if (p.progFd < 0) throw Error("bench: program '" + p.label + "' has no fd", EBADF);
    if (s.frames.empty()) throw Error("bench: the frame mix is empty", EINVAL);
    if (s.rounds == 0) throw Error("bench: rounds must be at least 1", EINVAL);
    if (s.repeat == 0) throw Error("bench: repeat must be at least 1", EINVAL);
    if (s.cpus == 0) throw Error("bench: cpus must be at least 1", EINVAL);
}

}  // namespace

std::vector<BenchFigures> benchPrograms(const std::vector<BenchProgram>& programs, const BenchSettings& settings) {
    validate(programs, settings);
    const size_t nPrograms = programs.size(), nFrames = settings.frames.size();
    const unsigned nThreads = settings.cpus, nRounds = settings.rounds;
    const std::vector<int> cpus = pickCpus(nThreads);
    const std::vector<Call> schedule = makeSchedule(nPrograms, nFrames, nRounds);

    // Everything the run writes is allocated here: sums[thread][round * nPrograms + program] of the
    // kernel's ns per run, messages drained per program, last verdict per program.
    std::vector<std::vector<double>> sums(nThreads, std::vector<double>(size_t(nRounds) * nPrograms, 0.0));
    std::vector<uint64_t> drained(nPrograms, 0);
    std::vector<uint32_t> verdicts(nPrograms, 0);
    std::vector<uint64_t> droppedBefore(nPrograms);
    std::vector<int> fds;
    // Only XDP programs pass through the kernel's XDP dispatcher (a tc program's test run does not).
    for (const auto& p : programs)
        if (bpf::programInfo(p.progFd).type == BPF_PROG_TYPE_XDP) fds.push_back(p.progFd);
    const DispatcherHold hold(fds);

    // The kernel's run count moves only while it times runs (run-time statistics on).
    std::vector<uint64_t> kernelRunsBefore(nPrograms);
    for (size_t p = 0; p < nPrograms; ++p) {
        if (programs[p].drain) programs[p].drain();  // leftovers from before are not ours to count
        droppedBefore[p] = readDropped(programs[p]);
        kernelRunsBefore[p] = bpf::programStats(programs[p].progFd).runCount;
    }

    std::mutex errorMutex;
    std::exception_ptr firstError;
    std::atomic<bool> failed{false};
    auto fail = [&](std::exception_ptr e) noexcept {
        std::lock_guard lock(errorMutex);
        if (!firstError) firstError = e;
        failed.store(true, std::memory_order_relaxed);
    };

    // Runs once per call, on one thread, after every thread's test run returned and before any
    // starts the next: the one place the transport is emptied.
    // It alone decides to stop: threads read `stop` only after the barrier, so all leave at the
    // same call and none is left waiting for the others.
    size_t callIndex = 0;
    bool stop = false;
    auto afterCall = [&]() noexcept {
        const Call& c = schedule[callIndex++];
        const BenchProgram& p = programs[c.program];
        if (p.drain && !failed.load(std::memory_order_relaxed)) {
            try {
                const size_t n = p.drain();
                if (c.round >= 0) drained[c.program] += n;
            } catch (...) {
                fail(std::current_exception());
            }
        }
        stop = failed.load(std::memory_order_relaxed);
    };
    std::barrier callDone{std::ptrdiff_t(nThreads), afterCall};
    std::latch started{std::ptrdiff_t(nThreads)};

    auto worker = [&](unsigned t) {
        bool ok = true;
        try {
            pinToCpu(cpus[t]);
        } catch (...) {
            fail(std::current_exception());
            ok = false;
        }
        started.arrive_and_wait();
        std::vector<double>& mySums = sums[t];
        for (const Call& c : schedule) {
            if (stop) break;
            if (ok) {
                try {
                    const uint32_t repeat = c.round < 0 ? std::min(settings.repeat, kWarmupRepeat) : settings.repeat;
                    const auto r = bpf::testRun(programs[c.program].progFd, settings.frames[c.frame], repeat);
                    if (c.round >= 0) mySums[size_t(c.round) * nPrograms + c.program] += r.durationNs;
                    if (t == 0) verdicts[c.program] = r.retval;
                } catch (...) {
                    fail(std::current_exception());
                    ok = false;
                }
            }
            callDone.arrive_and_wait();
        }
    };

    std::vector<std::thread> threads;
    threads.reserve(nThreads);
    try {
        for (unsigned t = 0; t < nThreads; ++t) threads.emplace_back(worker, t);
    } catch (...) {
        // Stand in for the threads that never started so the others are released at the first
        // barrier, where the failure stops them.
        fail(std::current_exception());
        const auto missing = std::ptrdiff_t(nThreads - threads.size());
        started.count_down(missing);
        for (std::ptrdiff_t i = 0; i < missing; ++i) (void)callDone.arrive_and_drop();
    }
    for (auto& th : threads) th.join();
    if (firstError) std::rethrow_exception(firstError);

    std::vector<BenchFigures> out(nPrograms);
    const double runs = double(nRounds) * double(nFrames) * double(settings.repeat) * double(nThreads);
    for (size_t p = 0; p < nPrograms; ++p) {
        BenchFigures& f = out[p];
        f.label = programs[p].label;
        f.roundNs.resize(nRounds);
        for (unsigned r = 0; r < nRounds; ++r) {
            double total = 0;
            for (unsigned t = 0; t < nThreads; ++t) total += sums[t][size_t(r) * nPrograms + p];
            f.roundNs[r] = total / double(nFrames) / double(nThreads);
        }
        f.nsPerPacket = median(f.roundNs);
        f.minNs = *std::min_element(f.roundNs.begin(), f.roundNs.end());
        f.maxNs = *std::max_element(f.roundNs.begin(), f.roundNs.end());
        f.messagesPerPacket = double(drained[p]) / runs;
        f.dropped = readDropped(programs[p]) - droppedBefore[p];
        f.verdict = verdicts[p];
        f.kernelTimed = bpf::programStats(programs[p].progFd).runCount != kernelRunsBefore[p];
    }
    if (std::any_of(out.begin(), out.end(), [](const BenchFigures& f) { return f.kernelTimed; }))
        spdlog::warn("bench: the kernel timed these runs (BPF run-time statistics are on: kernel.bpf_stats_enabled, "
                     "or a process holding BPF_ENABLE_STATS such as a fizzhost with run_time_stats = true): every "
                     "run includes two clock reads, the floor rises and ratios shrink towards 1; compare only "
                     "figures measured in the same state");
    return out;
}

DispatcherHold::DispatcherHold(std::span<const int> progFds) {
    std::string problem;
    // unshare(CLONE_NEWNET) moves only the calling thread into the new namespace: a helper does it.
    std::thread([&] {
        try {
            for (int fd : progFds) {
                if (unshare(CLONE_NEWNET) != 0) throwErrno("new network namespace", errno);
                UniqueFd ns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
                if (!ns) throwErrno("open /proc/thread-self/ns/net", errno);
                // The loopback device of a new namespace is always ifindex 1, and down.
                links_.push_back(bpf::XdpLink::attach(fd, 1, "lo", bpf::XdpMode::Generic));
                namespaces_.push_back(std::move(ns));
            }
        } catch (const std::exception& e) {
            problem = e.what();
        }
    }).join();
    if (!problem.empty()) {
        release();
        spdlog::warn("bench: cannot keep the programs in the XDP dispatcher ({}): every test-run call waits for two "
                     "RCU grace periods, so the run takes longer (the figures are not affected)",
                     problem);
    }
}

DispatcherHold::~DispatcherHold() { release(); }

void DispatcherHold::release() noexcept {
    links_.clear();  // detach before the namespaces go
    namespaces_.clear();
}

BenchProgram FloorProgram::benchProgram(std::string label) const { return {std::move(label), fd, {}, {}}; }

FloorProgram loadFloorProgram() {
    const std::span<const unsigned char> elf(fizzhost_empty_object, size_t(fizzhost_empty_object_end - fizzhost_empty_object));
    FloorProgram floor{bpf::Object::openMemory(elf, kFloorProgramName), -1};
    floor.object.load();
    auto prog = floor.object.findProgram(kFloorProgramName);
    if (!prog) throw Error(std::string("bench: the embedded floor object has no program '") + kFloorProgramName + "'", ENOENT);
    floor.fd = prog->fd();
    return floor;
}

FloorProgram loadParseCountProgram() {
    const std::span<const unsigned char> elf(fizzhost_parse_count_object,
                                             size_t(fizzhost_parse_count_object_end - fizzhost_parse_count_object));
    FloorProgram p{bpf::Object::openMemory(elf, kParseCountProgramName), -1};
    auto regions = p.object.findMap(FIZZ_MAP_REGIONS);
    if (!regions) throw Error("bench: the embedded parse+count object has no map '" FIZZ_MAP_REGIONS "'", ENOENT);
    regions->setMaxEntries(bpf::possibleCpus());  // key = CPU; headers only, no slots
    p.object.load();
    auto prog = p.object.findProgram(kParseCountProgramName);
    if (!prog)
        throw Error(std::string("bench: the embedded parse+count object has no program '") + kParseCountProgramName + "'",
                    ENOENT);
    p.fd = prog->fd();
    return p;
}

runtime::ClassifierOptions benchClassifierOptions(const plugin::Plugin& plugin, fizz_transport transport,
                                         const BenchSettings& settings) {
    runtime::ClassifierOptions opts;
    opts.transport = transport;
    const uint64_t repeat = std::max(settings.repeat, 1u);
    if (transport == FIZZ_TRANSPORT_QUEUE) {
        // One queue for all CPUs: it must hold what every thread pushes during one call.
        const uint64_t entries = repeat * std::max(settings.cpus, 1u);
        if (entries * plugin.messageSize() > kMaxTransportBytes || entries > UINT32_MAX)
            throw Error(runtime::describe(plugin) + ": bench: a queue for " + std::to_string(entries) + " messages of " +
                            std::to_string(plugin.messageSize()) + " bytes is more than " +
                            std::to_string(kMaxTransportBytes >> 20) + " MiB (lower --repeat)",
                        E2BIG);
        opts.queueSize = uint32_t(entries);
    } else {
        // Slots per CPU and one pinned thread per CPU: a CPU's slots hold one thread's call.
        if (repeat > UINT32_MAX) throw Error("bench: --repeat too large", E2BIG);
        opts.ringSlots = runtime::ringSlotsFor(plugin.messageSize(), uint32_t(repeat), config::RingRate{}, bpf::possibleCpus());
    }
    return opts;
}

BenchProgram benchProgramFor(runtime::Classifier& classifier, std::string label) {
    auto reader = std::make_shared<runtime::TransportReader>(classifier);
    return {std::move(label), classifier.programFd(),
            [reader] { return reader->drain(SIZE_MAX, [](const void*, uint32_t) noexcept {}); },
            [reader] { return reader->counters().dropped; }};
}

std::vector<std::vector<uint8_t>> mixFrames(std::string_view mix) {
    std::vector<std::vector<uint8_t>> frames;
    for (uint32_t addr : mixAddresses(mix)) frames.push_back(udpFrame(addr));
    return frames;
}

}  // namespace fizzhost::measure
