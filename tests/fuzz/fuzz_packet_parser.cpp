// libFuzzer harness: a frame run for real through BPF_PROG_TEST_RUN, twice. First through the test
// program that writes the SDK's parsed packet view (tests/plugins/packet_view.bpf.c, which calls
// fizz_parse_packet), compared field by field with the C++ reference (support/packet_reference);
// then through the shipped fizzbuzz plugin's program, whose message (or silence) must be what the
// reference classification (support/reference) makes of the reference-parsed source. Any
// disagreement traps, so the input is kept as a finding.
//
// Needs root (CAP_BPF and CAP_SYS_ADMIN for loading programs and BPF_PROG_TEST_RUN): without it the
// harness says so and exits with status 1 before fuzzing; it never skips silently.
//
// Input: byte 0 is a flag byte, the rest the frame.
//   bits 0-1  VLAN tags to insert after the MAC addresses (0-3; the parser skips at most 2)
//   bit 2     the outermost of them is 802.1ad (0x88a8) rather than 802.1Q (0x8100)
//   bit 3     make the frame look like IPv4: ethertype 0x0800 after the tags, version nibble 4
// Frames shorter than an Ethernet header (the kernel refuses them) are left out; longer than
// kMaxFrame are cut there (a test run's frame must fit in one page with XDP headroom).
#include "bpf/classifier_harness.hpp"
#include "bpf/object.hpp"
#include "bpf/test_run.hpp"
#include "support/packet_reference.hpp"
#include "support/reference.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr size_t kEthHeader = 14, kMacs = 12, kMaxFrame = 1600;

// The global packet_view.bpf.c writes (struct fizz_packet_view_out there).
struct ViewOut {
    int32_t ret;
    uint32_t runs;
    fizz_packet pkt;
};

struct Programs {
    std::vector<unsigned char> viewElf;
    fizzhost::bpf::Object view;
    int viewFd = -1, viewOutFd = -1;
    fizzhost::test::ClassifierHarness fizzbuzz{"fizzbuzz"};

    Programs() : viewElf(readFile(std::string(FIZZHOST_TEST_BPF_DIR) + "/packet_view.bpf.o")),
                 view(fizzhost::bpf::Object::openMemory(viewElf, "fizz_packet_view")) {
        view.load();
        viewFd = view.findProgram("fizz_packet_view")->fd();
        viewOutFd = view.findSectionMap(".bss")->fd();
    }

    static std::vector<unsigned char> readFile(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw fizzhost::Error("cannot read " + path, ENOENT);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    ViewOut viewOut() const {
        ViewOut out{};
        const uint32_t zero = 0;
        if (bpf_map_lookup_elem(viewOutFd, &zero, &out) != 0) __builtin_trap();
        return out;
    }
};

std::unique_ptr<Programs> programs;

[[noreturn]] void disagree(const char* what) {
    std::fprintf(stderr, "fuzz_packet_parser: %s\n", what);
    __builtin_trap();
}

std::vector<uint8_t> buildFrame(const uint8_t* data, size_t size) {
    const uint8_t flags = data[0];
    std::vector<uint8_t> f(data + 1, data + size);
    const unsigned tags = flags & 3u;
    if (f.size() >= kMacs && tags) {
        std::vector<uint8_t> t;
        for (unsigned i = 0; i < tags; ++i) {
            const uint16_t tpid = (i == 0 && (flags & 4u)) ? 0x88a8 : 0x8100;
            t.insert(t.end(), {uint8_t(tpid >> 8), uint8_t(tpid), uint8_t(i), uint8_t(7 + i)});
        }
        f.insert(f.begin() + kMacs, t.begin(), t.end());
    }
    if (flags & 8u) {
        const size_t type = kMacs + 4 * tags;
        if (f.size() >= type + 2) f[type] = 0x08, f[type + 1] = 0x00;
        if (f.size() > type + 2) f[type + 2] = uint8_t(0x40 | (f[type + 2] & 0x0f));
    }
    if (f.size() > kMaxFrame) f.resize(kMaxFrame);
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    try {
        programs = std::make_unique<Programs>();
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "fuzz_packet_parser: cannot load the BPF programs it runs (this harness needs root: "
                     "CAP_BPF and CAP_SYS_ADMIN for BPF_PROG_TEST_RUN): %s\n",
                     e.what());
        std::exit(1);
    }
    std::fprintf(stderr, "fuzz_packet_parser: packet view from %s, fizzbuzz from %s\n", FIZZHOST_TEST_BPF_DIR,
                 FIZZHOST_PLUGIN_DIR);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::vector<uint8_t> frame = buildFrame(data, size);
    if (frame.size() < kEthHeader) return 0;  // BPF_PROG_TEST_RUN refuses XDP frames this short
    const auto want = fizzhost::test::referencePacket(frame);

    // The parsed view: the same as the reference, or refused (-1) with nothing half-filled.
    const ViewOut before = programs->viewOut();
    fizzhost::bpf::testRun(programs->viewFd, frame);
    const ViewOut after = programs->viewOut();
    if (after.runs != before.runs + 1) disagree("the packet view program did not run exactly once");
    if (after.ret == 0) {
        if (!want) disagree("the packet view accepted a frame the reference refuses");
        if (std::memcmp(&after.pkt, &*want, sizeof after.pkt) != 0) disagree("the packet view differs from the reference");
    } else {
        if (after.ret != -1) disagree("the packet view returned neither 0 nor -1");
        if (want) disagree("the packet view refused a frame the reference accepts");
        const fizz_packet zero{};
        if (std::memcmp(&after.pkt, &zero, sizeof zero) != 0) disagree("a refused packet view is half filled");
    }

    // fizzbuzz: passes every frame, and emits exactly what the reference makes of the source.
    const auto r = programs->fizzbuzz.run(frame);
    if (r.verdict != XDP_PASS) disagree("fizzbuzz did not pass the frame");
    if (r.undecodable != 0) disagree("fizzbuzz's decoder refused its own message");
    if (r.events.size() > 1) disagree("fizzbuzz emitted more than one message for one frame");
    const auto wantKind = want ? fizzhost::test::referenceKind("fizzbuzz", want->saddr) : std::nullopt;
    if (r.events.empty() != !wantKind) disagree("fizzbuzz's message (or silence) differs from the reference");
    if (!r.events.empty()) {
        if (r.events[0].src_addr != want->saddr) disagree("fizzbuzz reported another source than the reference");
        if (programs->fizzbuzz.plugin().kindName(r.events[0].kind) != *wantKind)
            disagree("fizzbuzz's kind differs from the reference");
    }
    return 0;
}
