// tc ingress through tcx links, beside someone else's program, on a real veth pair in namespaces
// the test makes: placement (first, last, before/after a program named or pinned, a link), the
// hook's order and revision, and the host's tc dispatcher sharing the hook with a foreign program
// that counts every frame and drops one port: both see every frame, its drops hold, the rest reach
// the stack; then 100 bpf_link_update swaps under traffic while other programs come and go around
// ours: same link, every frame classified, the foreign program still counting.
#include "bpf/hook_load.hpp"
#include "bpf/pin.hpp"
#include "bpf/tcx_link.hpp"
#include "bpf/xdp_link.hpp"
#include "support/bpffs_dir.hpp"
#include "support/foreign_programs.hpp"
#include "support/frame_builder.hpp"
#include "support/hook_programs.hpp"
#include "support/netns.hpp"
#include "support/packet_reference.hpp"
#include "support/privilege.hpp"
#include "support/udp_sink.hpp"
#include "support/wait.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>
#include <fizz/packet.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Where = bpf::TcxPlacement::Where;

namespace {

constexpr uint16_t kPassPort = 7001, kDropPort = 7002, kQuietPort = 9;

std::vector<uint32_t> programIds(const bpf::TcxChain& chain) {
    std::vector<uint32_t> ids;
    for (const auto& e : chain.entries) ids.push_back(e.programId);
    return ids;
}

// Sources from the test net whose fizz kind is Fizz: every one of them must produce one message.
std::vector<uint32_t> fizzSources(size_t n) {
    std::vector<uint32_t> out;
    for (uint32_t a = kTestNet; out.size() < n; ++a)
        if (a % 3 == 0) out.push_back(a);
    return out;
}

}  // namespace

TEST_CASE("a tcx link goes first, last, before or after a program named or pinned, and keeps its place through "
          "bpf_link_update",
          "[netns]") {
    if (!requirePrivilege("attach tc programs through tcx links on a veth pair")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    BpffsDir pins;
    const auto fizz = findPlugin("fizz", FIZZHOST_PLUGIN_DIR);
    HookClassifier classifier(fizz, FIZZ_HOOK_TC);
    HookDispatcher d1({FIZZ_HOOK_TC}), d2({FIZZ_HOOK_TC});
    d1.setSlot(FIZZ_VARIANT_BASELINE, classifier.programFd());
    d2.setSlot(FIZZ_VARIANT_BASELINE, classifier.programFd());
    ForeignTc a(kDropPort), c(kDropPort);  // two programs named foreign_tc
    ForeignTc e(kDropPort);

    ScopedNetns in(hostNs);
    const int ifindex = veth.ifindexA();
    const std::string ifname = veth.nameA();
    const uint64_t empty = bpf::queryTcx(ifindex).revision;
    CHECK(bpf::queryTcx(ifindex).entries.empty());

    auto linkA = bpf::attachTcxAt(a.fd(), ifindex, ifname, {Where::Last, "", ""});
    auto ours = bpf::attachTcxAt(d1.programFd(), ifindex, ifname, {Where::First, "", ""});
    CHECK(programIds(bpf::queryTcx(ifindex)) == std::vector<uint32_t>{bpf::programId(d1.programFd()), bpf::programId(a.fd())});
    // Before the program pinned at a path (the link, here), and by name.
    bpf::pinObject(linkA.fd(), pins.path() / "foreign_link");
    auto linkC = bpf::attachTcxAt(c.fd(), ifindex, ifname, {Where::Before, "", pins.path() / "foreign_link"});
    const auto chain = bpf::queryTcx(ifindex);
    REQUIRE(chain.entries.size() == 3);
    CHECK(programIds(chain) == std::vector<uint32_t>{bpf::programId(d1.programFd()), bpf::programId(c.fd()),
                                                     bpf::programId(a.fd())});
    CHECK(chain.entries[0].linkId == ours.id());
    CHECK(chain.entries[0].name == "fizz_dispatch");
    CHECK(chain.entries[2].linkId == linkA.id());
    CHECK(chain.revision > empty);

    // A name two programs carry is refused, as is one nobody carries (the message lists the hook).
    CHECK_THROWS_WITH(bpf::attachTcxAt(e.fd(), ifindex, ifname, {Where::Before, "foreign_tc", ""}),
                      Catch::Contains("several programs on the hook are named 'foreign_tc'"));
    CHECK_THROWS_WITH(bpf::attachTcxAt(e.fd(), ifindex, ifname, {Where::After, "cilium_entry", ""}),
                      Catch::Contains("no program named 'cilium_entry' on the hook") &&
                          Catch::Contains("'fizz_dispatch' (id " + std::to_string(bpf::programId(d1.programFd()))));
    // A revision that moved on is refused by the kernel (ESTALE); attachTcxAt reads it again.
    try {
        bpf::TcxLink::attach(e.fd(), ifindex, ifname, {Where::Last, 0, 0, empty});
        FAIL("an attach on a stale revision succeeded");
    } catch (const Error& err) {
        CHECK(err.code() == ESTALE);
    }
    auto linkE = bpf::attachTcxAt(e.fd(), ifindex, ifname, {Where::After, "fizz_dispatch", ""});
    CHECK(bpf::queryTcx(ifindex).entries[1].programId == bpf::programId(e.fd()));

    // The swap keeps the place, the link and its id; the revision moves.
    const uint64_t before = bpf::queryTcx(ifindex).revision;
    const uint32_t linkId = ours.id();
    ours.update(d2.programFd(), d1.programFd());
    const auto swapped = bpf::queryTcx(ifindex);
    CHECK(swapped.entries[0].programId == bpf::programId(d2.programFd()));
    CHECK(swapped.entries[0].linkId == linkId);
    CHECK(ours.id() == linkId);
    CHECK(ours.programId() == bpf::programId(d2.programFd()));
    CHECK(swapped.revision > before);
    // A swap expecting the program that is gone is refused: nobody's program is clobbered.
    CHECK_THROWS_WITH(ours.update(d1.programFd(), d1.programFd()), Catch::Contains("not the one fizzhost expects"));

    // First and last take no relative; before and after take one.
    CHECK_THROWS_AS(bpf::TcxLink::attach(e.fd(), ifindex, ifname, {Where::First, 5, 0, 0}), Error);
    CHECK_THROWS_AS(bpf::TcxLink::attach(e.fd(), ifindex, ifname, {Where::After, 0, 0, 0}), Error);

    linkC.detach();
    CHECK(bpf::queryTcx(ifindex).entries.size() == 3);
    CHECK_FALSE(ours.detached());
    CHECK(ours.ifindex() == uint32_t(ifindex));
}

TEST_CASE("on a veth pair the tc dispatcher shares tc ingress with a foreign program, and 100 swaps under traffic "
          "while programs come and go around it leave no frame unclassified",
          "[netns]") {
    if (!requirePrivilege("attach tc programs through tcx links on a veth pair")) return;
    for (const bool foreignFirst : {true, false}) {
        DYNAMIC_SECTION((foreignFirst ? "foreign program before ours" : "foreign program after ours")) {
            NetNs hostNs, peerNs;
            VethPair veth(hostNs, peerNs);
            acceptTestFrames(hostNs, veth.nameA());
            UdpSink passSink(hostNs, kPassPort), dropSink(hostNs, kDropPort);
            const auto fizz = findPlugin("fizz", FIZZHOST_PLUGIN_DIR);
            HookClassifier a(fizz, FIZZ_HOOK_TC), b(fizz, FIZZ_HOOK_TC);
            auto current = std::make_unique<HookDispatcher>(HookDispatcherOptions{FIZZ_HOOK_TC});
            current->setSlot(FIZZ_VARIANT_BASELINE, a.programFd());
            ForeignTc foreign(kDropPort);

            std::optional<bpf::TcxLink> ours, theirs;
            {
                ScopedNetns in(hostNs);
                ours.emplace(bpf::attachTcxAt(current->programFd(), veth.ifindexA(), veth.nameA(), {Where::Last, "", ""}));
                theirs.emplace(bpf::attachTcxAt(foreign.fd(), veth.ifindexA(), veth.nameA(),
                                                {foreignFirst ? Where::Before : Where::After, "fizz_dispatch", ""}));
                const auto chain = bpf::queryTcx(veth.ifindexA());
                REQUIRE(chain.entries.size() == 2);
                CHECK(chain.entries[foreignFirst ? 0 : 1].programId == bpf::programId(foreign.fd()));
            }
            const uint32_t linkId = ours->id();

            // Phase 1: frames to a port the foreign program drops and to one it passes.
            RawSender sender(peerNs, veth.nameB());
            const auto sources = fizzSources(600);
            std::vector<std::vector<uint8_t>> frames;
            size_t toDrop = 0;
            for (size_t i = 0; i < sources.size(); ++i) {
                const bool drop = i % 4 == 0;
                toDrop += drop;
                frames.push_back(FrameBuilder().ipv4(sources[i]).udp(40000, drop ? kDropPort : kPassPort).build());
            }
            REQUIRE(sender.sendBatch(frames) == frames.size());
            // Ours passes every frame on: the foreign program sees them all, in either order. Ours
            // sees what the foreign program let through when it comes first.
            const size_t classified = foreignFirst ? frames.size() - toDrop : frames.size();
            size_t messages = 0;
            CHECK(waitUntil(
                [&] {
                    messages += a.drain().size();
                    return foreign.counts().packets >= frames.size() && messages >= classified &&
                           passSink.count() >= frames.size() - toDrop;
                },
                std::chrono::seconds(10)));
            CHECK(foreign.counts().packets == frames.size());
            CHECK(foreign.counts().dropped == toDrop);
            CHECK(messages == classified);
            CHECK(a.packets() == classified);
            CHECK(passSink.count() == frames.size() - toDrop);
            CHECK(dropSink.count() == 0);

            // Phase 2: 100 swaps to fresh dispatchers over alternating classifier instances, under
            // traffic, while another foreign program keeps entering and leaving before and after ours.
            std::atomic<bool> stop{false}, stopDrain{false};
            std::atomic<uint64_t> sent{0}, drained{0}, churns{0};
            std::string churnError;
            std::thread traffic([&] {
                const auto srcs = fizzSources(64);
                std::vector<std::vector<uint8_t>> batch;
                for (uint32_t s : srcs) batch.push_back(FrameBuilder().ipv4(s).udp(40000, kQuietPort).build());
                while (!stop) {
                    sent += sender.sendBatch(batch);
                    std::this_thread::sleep_for(std::chrono::microseconds(500));  // pacing, not ordering
                }
            });
            std::thread drainer([&] {
                while (!stopDrain) {
                    const size_t n = a.drainRaw().size() + b.drainRaw().size();
                    drained += n;
                    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            });
            std::thread churn([&] {
                try {
                    ScopedNetns in(hostNs);
                    ForeignTc visitor(0);
                    for (uint64_t i = 0; !stop; ++i) {
                        auto l = bpf::TcxLink::attach(visitor.fd(), veth.ifindexA(), veth.nameA(),
                                                      {i % 2 ? Where::Before : Where::After, 0, linkId, 0});
                        ++churns;
                        l.detach();
                    }
                } catch (const std::exception& e) {
                    churnError = e.what();
                }
            });
            std::vector<std::unique_ptr<HookDispatcher>> retired;
            for (int i = 0; i < 100; ++i) {
                auto next = std::make_unique<HookDispatcher>(HookDispatcherOptions{FIZZ_HOOK_TC});
                next->setSlot(FIZZ_VARIANT_BASELINE, (i % 2 ? a : b).programFd());
                ours->update(next->programFd(), current->programFd());
                retired.push_back(std::move(current));
                current = std::move(next);
            }
            const uint64_t churnsDuringSwaps = churns;
            stop = true;
            traffic.join();
            churn.join();
            CHECK(churnError.empty());
            const uint64_t total = sent;
            INFO(total << " frames sent during the swaps, " << churnsDuringSwaps << " foreign attach/detach meanwhile");
            // Everything sent has reached both programs, and their messages the drainer, before the
            // counts are compared.
            CHECK(waitUntil([&] { return foreign.counts().packets >= frames.size() + total && drained >= total; },
                            std::chrono::seconds(10)));
            stopDrain = true;
            drainer.join();
            drained += a.drainRaw().size() + b.drainRaw().size();
            std::fprintf(stderr, "tcx swaps (%s): 100 swaps, %llu frames meanwhile, %llu foreign attach/detach around ours\n",
                         foreignFirst ? "foreign first" : "foreign last", (unsigned long long)total,
                         (unsigned long long)churnsDuringSwaps);
            CHECK(churnsDuringSwaps > 0);
            CHECK(total > 0);
            CHECK(drained == total);  // 0 frames unclassified
            CHECK(a.packets() + b.packets() == classified + total);
            CHECK(ours->id() == linkId);
            CHECK(ours->programId() == bpf::programId(current->programFd()));
            CHECK(foreign.counts().packets == frames.size() + total);
            ScopedNetns in(hostNs);
            CHECK(bpf::queryTcx(veth.ifindexA()).entries.size() == 2);
        }
    }
}

TEST_CASE("on a veth pair tc ingress meets frames whose outer VLAN tag the stack took out, and the parsed view "
          "counts it as XDP would",
          "[netns]") {
    if (!requirePrivilege("attach the packet view test program at tc ingress of a veth pair")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    // tests/plugins/packet_view.bpf.c as a tc program: its view of the last frame, in .bss.
    auto view = openTestObject("packet_view.bpf.o");
    const uint32_t hook = FIZZ_HOOK_TC;
    view.findSectionMap(".rodata")->setInitialValue(&hook, sizeof hook);
    bpf::setProgramHook(*view.findProgram("fizz_packet_view"), FIZZ_HOOK_TC);
    view.load();
    const int outFd = view.findSectionMap(".bss")->fd();
    struct Out {
        int32_t ret;
        uint32_t runs;
        fizz_packet pkt;
    };
    auto read = [&] {
        Out o{};
        const uint32_t zero = 0;
        REQUIRE(bpf_map_lookup_elem(outFd, &zero, &o) == 0);
        return o;
    };
    std::optional<bpf::TcxLink> link;
    {
        ScopedNetns in(hostNs);
        link.emplace(bpf::TcxLink::attach(view.findProgram("fizz_packet_view")->fd(), veth.ifindexA(), veth.nameA()));
    }
    RawSender sender(peerNs, veth.nameB());
    const std::vector<std::vector<uint8_t>> frames = {
        FrameBuilder().ipv4(0xC6120009).udp(1234, 53).build(),
        FrameBuilder().vlan(100).ipv4(0xC612000A).udp(1, 2).build(),
        FrameBuilder().vlan(100).vlan(200).ipv4(0xC612000B).ipOptions(2).udp(3, 4).build(),
        FrameBuilder().vlan(1).vlan(2).vlan(3).ipv4(0xC612000C).udp().build(),  // one tag too many, on either hook
    };
    for (const auto& f : frames) {
        const auto want = referencePacket(f);  // the view of the frame as it was on the wire: XDP's
        const uint32_t runs = read().runs;
        sender.send(f);
        REQUIRE(waitUntil([&] { return read().runs == runs + 1; }, std::chrono::seconds(5)));
        const Out got = read();
        INFO("frame with " << (want ? int(want->vlan_tags) : -1) << " tags");
        REQUIRE((got.ret == 0) == want.has_value());
        if (want) {
            CHECK(got.pkt.vlan_tags == want->vlan_tags);
            CHECK(std::memcmp(&got.pkt, &*want, sizeof got.pkt) == 0);
        }
    }
}
