// Living with other programs on a node: a link of ours detached by another process (bpftool link
// detach, as libxdp's xdp_detach_link does) is noticed by a cheap poll, for XDP and tcx links
// alike; and an XDP program someone else attached is described by id, name, mode and how it is
// attached (netlink, or a bpf_link and who holds it), with the two ways forward.
#include "bpf/hook_link.hpp"
#include "bpf/pin.hpp"
#include "bpf/tcx_link.hpp"
#include "bpf/xdp_link.hpp"
#include "bpf/xdp_owner.hpp"
#include "support/bpffs_dir.hpp"
#include "support/foreign_programs.hpp"
#include "support/hook_programs.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"
#include "util/error.hpp"

#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <linux/if_link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>

using namespace fizzhost;
using namespace fizzhost::test;

TEST_CASE("a link detached by another process is noticed within the poll, for XDP and tcx links", "[netns]") {
    if (!requirePrivilege("attach links on a veth pair and detach them with bpftool")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    const auto fizz = findPlugin("fizz", FIZZHOST_PLUGIN_DIR);
    HookClassifier xdpProgram(fizz, FIZZ_HOOK_XDP), xdpOther(fizz, FIZZ_HOOK_XDP);
    HookClassifier tcProgram(fizz, FIZZ_HOOK_TC);
    HookDispatcher tcDispatcher({FIZZ_HOOK_TC});
    tcDispatcher.setSlot(FIZZ_VARIANT_BASELINE, tcProgram.programFd());
    ScopedNetns in(hostNs);
    bpf::XdpLink xdp = bpf::XdpLink::attach(xdpProgram.programFd(), veth.ifindexA(), veth.nameA(), bpf::XdpMode::Native);
    bpf::TcxLink tcx = bpf::TcxLink::attach(tcDispatcher.programFd(), veth.ifindexA(), veth.nameA());
    for (bpf::HookLink* link : {static_cast<bpf::HookLink*>(&xdp), static_cast<bpf::HookLink*>(&tcx)}) {
        INFO("link id " << link->id());
        CHECK_FALSE(link->detached());
        CHECK(link->ifindex() == uint32_t(veth.ifindexA()));
        const uint32_t programBefore = link->programId();
        // Another process, by id: what an operator or libxdp does.
        run({"bpftool", "link", "detach", "id", std::to_string(link->id())});
        // The host polls once a second; the kernel reports it at once.
        CHECK(waitUntil([&] { return link->detached(); }, std::chrono::seconds(1)));
        CHECK(link->ifindex() == 0);
        CHECK(bpf::linkDetached(link->fd()));
        CHECK(link->programId() == programBefore);  // the program is still the link's, attached nowhere
    }
    // Nothing is attached any more, and a swap on a detached link says so.
    CHECK(bpf::attachedXdpProgramId(veth.ifindexA()) == 0);
    CHECK(bpf::queryTcx(veth.ifindexA()).entries.empty());
    try {
        xdp.update(xdpOther.programFd(), xdpProgram.programFd());
        FAIL("a detached link took a new program");
    } catch (const Error& e) {
        CHECK(e.code() == ENOLINK);
        CHECK_THAT(e.what(), Catch::Contains("the link was detached"));
    }
}

namespace {

// A forked child that holds every fd this process had at the fork (a link's, in particular) until
// finish() or the end of the scope, whatever the test did meanwhile.
class LinkHolder {
public:
    LinkHolder() {
        if (pipe(ready_) != 0 || pipe(done_) != 0) throw std::runtime_error("pipe");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork");
        if (pid_ == 0) {
            char c = 1;
            close(done_[1]);  // so that the parent's close is an end of file here
            (void)!write(ready_[1], &c, 1);
            (void)!read(done_[0], &c, 1);  // until the parent writes or its end closes
            _exit(0);
        }
        close(done_[0]);
        char c;
        if (read(ready_[0], &c, 1) != 1) throw std::runtime_error("the holding child did not start");
    }
    ~LinkHolder() { finish(); }
    pid_t pid() const { return pid_; }
    void finish() {
        if (pid_ <= 0) return;
        const char c = 1;
        (void)!write(done_[1], &c, 1);
        close(done_[1]);
        close(ready_[0]);
        close(ready_[1]);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }

private:
    int ready_[2] = {-1, -1}, done_[2] = {-1, -1};
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("an XDP program someone else attached is described by id, name, mode and how it is attached, with the "
          "ways forward",
          "[netns]") {
    if (!requirePrivilege("attach foreign XDP programs on a veth pair")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    BpffsDir pins;
    ChainNext program("chain_drop_port", 7201);
    const std::string id = std::to_string(bpf::programId(program.fd()));
    ScopedNetns in(hostNs);
    CHECK(bpf::foreignXdpRefusal(veth.nameA(), veth.ifindexA()).empty());

    SECTION("through netlink") {
        REQUIRE(bpf_xdp_attach(veth.ifindexA(), program.fd(), XDP_FLAGS_DRV_MODE, nullptr) == 0);
        const auto attached = bpf::xdpAttachments(veth.ifindexA());
        REQUIRE(attached.size() == 1);
        CHECK(attached[0].programId == bpf::programId(program.fd()));
        CHECK(attached[0].programName == "chain_drop_port");
        CHECK(attached[0].mode == "native");
        CHECK(attached[0].linkId == 0);
        const std::string msg = bpf::foreignXdpRefusal(veth.nameA(), veth.ifindexA());
        INFO(msg);
        CHECK_THAT(msg, Catch::Contains("program 'chain_drop_port' (id " + id + ") in native mode") &&
                            Catch::Contains("attached through netlink") && Catch::Contains("hook = \"tc\"") &&
                            Catch::Contains("then = ") && Catch::Contains("bpftool prog pin id " + id) &&
                            Catch::Contains("xdp off"));
        CHECK_THAT(msg, !Catch::Contains("would refuse to chain"));
        REQUIRE(bpf_xdp_detach(veth.ifindexA(), XDP_FLAGS_DRV_MODE, nullptr) == 0);
    }
    SECTION("through a bpf_link held by another process") {
        auto link = bpf::XdpLink::attach(program.fd(), veth.ifindexA(), veth.nameA(), bpf::XdpMode::Generic);
        const uint32_t linkId = link.id();
        LinkHolder holder;  // a child with its own copy of the link's fd
        link.release();     // the parent's copy goes; the child's keeps the attachment
        const auto attached = bpf::xdpAttachments(veth.ifindexA());
        REQUIRE(attached.size() == 1);
        CHECK(attached[0].mode == "generic");
        CHECK(attached[0].linkId == linkId);
        REQUIRE(attached[0].holder);
        CHECK(*attached[0].holder == holder.pid());
        const std::string msg = bpf::foreignXdpRefusal(veth.nameA(), veth.ifindexA());
        INFO(msg);
        CHECK_THAT(msg, Catch::Contains("(id " + id + ") in generic mode, attached through bpf_link id " +
                                        std::to_string(linkId)) &&
                            Catch::Contains("held by process") &&
                            Catch::Contains("(pid " + std::to_string(holder.pid()) + ")"));
        holder.finish();
        // The child's exit closed the last fd of the link: the attachment is gone.
        CHECK(waitUntil([&] { return bpf::attachedXdpProgramId(veth.ifindexA()) == 0; }, std::chrono::seconds(2)));
    }
    SECTION("through a pinned bpf_link, with frags support the chain could not take") {
        ChainNext frags("chain_drop_port_frags", 7201);
        auto link = bpf::XdpLink::attach(frags.fd(), veth.ifindexA(), veth.nameA(), bpf::XdpMode::Native);
        bpf::pinObject(link.fd(), pins.path() / "foreign");
        const uint32_t linkId = link.id();
        link.release();
        const std::string msg = bpf::foreignXdpRefusal(veth.nameA(), veth.ifindexA());
        INFO(msg);
        CHECK_THAT(msg, Catch::Contains("attached through bpf_link id " + std::to_string(linkId)) &&
                            Catch::Contains("held by no process (pinned in bpffs)") &&
                            Catch::Contains("the kernel would refuse to chain this one") &&
                            Catch::Contains("with frags support"));
        bpf::detachLink(bpf::openPinned(pins.path() / "foreign").get());
        bpf::unpin(pins.path() / "foreign");
    }
}
