// The kernel's BPF run-time statistics with the real daemon: off unless the config asks for them
// (`run_time_stats = true`), since while they are on the kernel reads the clock twice around every
// run of every BPF program on the machine; `fizzhost status --cost-window` turns them on for its
// window only. Seen through the kernel's own run count of the program on the link, which moves
// only while they are on, and through status.
#include "netns/daemon_lab.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"

#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace fizzhost::test;

namespace {

// The kernel's run count of program `id` (bpf_prog_info.run_cnt).
uint64_t kernelRunCount(uint32_t id) {
    const int fd = bpf_prog_get_fd_by_id(id);
    REQUIRE(fd >= 0);
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    const int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
    ::close(fd);
    REQUIRE(rc == 0);
    return info.run_cnt;
}

std::string table(const DaemonLab& lab) { return interfaceTable(lab.ifname(), "fizzbuzz"); }

// Sends `n` frames and waits until the interface counted them.
void sendCounted(DaemonLab& lab, size_t n, uint32_t first) {
    const uint64_t before = lab.packetsCounted();
    REQUIRE(lab.send(benchmarkSources(first, n)) == n);
    REQUIRE(lab.waitForPackets(before + n) >= before + n);
}

}  // namespace

TEST_CASE("run_time_stats: the kernel times runs only while the config asks, and a reload turns it on and off",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    constexpr size_t kFrames = 300;
    DaemonLab lab;
    lab.writeConfig(table(lab));
    lab.start();
    const uint32_t program = lab.attachedProgramId();
    REQUIRE(program != 0);
    const uint64_t atStart = kernelRunCount(program);
    INFO("run_cnt at start: " << atStart << "\nlog:\n" << lab.daemon().stderrText());

    // Default: off. The program runs on every frame, the kernel counts none of those runs.
    sendCounted(lab, kFrames, 1);
    CHECK(kernelRunCount(program) == atStart);
    auto s = lab.status();
    CHECK_FALSE(s["run_time_stats"].get<bool>());
    CHECK_FALSE(lab.interfaceStatus().contains("ns_per_run"));

    // On by reload: the same program (nothing else changed), now timed by the kernel.
    lab.writeConfig("run_time_stats = true\n" + table(lab));
    REQUIRE(lab.reload());
    REQUIRE(lab.attachedProgramId() == program);
    const uint64_t beforeOn = kernelRunCount(program);
    sendCounted(lab, kFrames, 1000);
    CHECK(kernelRunCount(program) >= beforeOn + kFrames);
    s = lab.status();
    CHECK(s["run_time_stats"].get<bool>());
    const auto ifc = lab.interfaceStatus();
    REQUIRE(ifc.contains("ns_per_run"));
    CHECK(ifc["ns_per_run"].get<double>() > 0);
    CHECK(ifc["runs"].get<uint64_t>() >= kFrames);

    // Off again: the host lets them go, and the count stands still.
    lab.writeConfig(table(lab));
    REQUIRE(lab.reload());
    const uint64_t afterOff = kernelRunCount(program);
    sendCounted(lab, kFrames, 2000);
    CHECK(kernelRunCount(program) == afterOff);
    CHECK_FALSE(lab.status()["run_time_stats"].get<bool>());
    CHECK(lab.stop() == 0);
}

TEST_CASE("status --cost-window measures the live ns/run with the statistics on for that window only",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(table(lab));
    lab.start();
    const uint32_t program = lab.attachedProgramId();
    REQUIRE(program != 0);
    const std::string socket = (lab.dir() / "control.sock").string();

    // Frames keep arriving while the command measures; it returns after its window.
    std::atomic<bool> sending{true};
    std::atomic<size_t> sent{0};
    std::thread sender([&] {
        for (uint32_t first = 1; sending.load(); first += 50) {
            sent += lab.send(benchmarkSources(first % 60000, 50));
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    const auto json = runFizzhost({"status", "--socket", socket, "--cost-window", "0.5", "--json"});
    const auto text = runFizzhost({"status", "--socket", socket, "--cost-window", "0.2"});
    sending = false;
    sender.join();
    INFO("json: " << json.out << json.err << "\ntext: " << text.out << text.err << "\nframes sent: " << sent.load());
    REQUIRE(json.status == 0);
    const auto status = nlohmann::json::parse(json.out);
    CHECK_FALSE(status["run_time_stats"].get<bool>());  // the host's own setting is unchanged
    const auto& ifc = status["interfaces"][0];
    CHECK_FALSE(ifc.contains("ns_per_run"));
    REQUIRE(ifc.contains("cost_window"));
    CHECK(ifc["cost_window"]["seconds"].get<double>() >= 0.5);
    CHECK(ifc["cost_window"]["runs"].get<uint64_t>() > 0);
    CHECK(ifc["cost_window"]["ns_per_run"].get<double>() > 0);
    REQUIRE(text.status == 0);
    CHECK_THAT(text.out, Catch::Contains("ns/run over") && Catch::Contains("on for that window only"));

    // The command let the statistics go when it ended: the kernel counts no more runs.
    const uint64_t after = kernelRunCount(program);
    sendCounted(lab, 200, 3000);
    CHECK(kernelRunCount(program) == after);
    CHECK(lab.stop() == 0);
}
