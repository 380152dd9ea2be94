// fizzhost-send: sends Ethernet/IPv4 frames from a range of source addresses out of one interface
// with a raw AF_PACKET socket, shaped by the same options as `fizzhost classify` (--dst --ttl
// --protocol --src-port --dst-port --vlan), so the lab sends what classify tested. Run it inside the
// peer's network namespace (ip netns exec), on a veth whose other end fizzhost watches; use
// 198.18.0.0/15 sources.
#include "cli/frame_option_flags.hpp"
#include "measure/frames.hpp"
#include "util/address.hpp"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
    CLI::App app{"fizzhost-send: raw test frames from a range of IPv4 sources"};
    fizzhost::cli::FrameShapeOptions shape;
    std::string iface, from = "198.18.0.0";
    unsigned count = 256, rounds = 1, pps = 0;
    app.add_option("--iface", iface, "interface to send on")->required();
    app.add_option("--from", from, "first source address")->capture_default_str();
    app.add_option("--count", count, "consecutive source addresses per round")->capture_default_str();
    app.add_option("--rounds", rounds, "rounds (0: until killed)")->capture_default_str();
    app.add_option("--pps", pps, "frames per second (0: as fast as possible)")->capture_default_str();
    fizzhost::cli::addFrameShapeOptions(&app, shape);
    CLI11_PARSE(app, argc, argv);

    auto first = fizzhost::parseAddress(from);
    if (!first) {
        std::fprintf(stderr, "fizzhost-send: '%s' is not an IPv4 address\n", from.c_str());
        return 2;
    }
    // The shape is checked once, before anything is opened: a bad --dst or --protocol stops here.
    fizzhost::measure::FrameShape frameShape;
    try {
        frameShape = shape.shapeFor(*first);
    } catch (const fizzhost::Error& e) {
        std::fprintf(stderr, "fizzhost-send: %s\n", e.what());
        return 2;
    }
    const unsigned ifindex = if_nametoindex(iface.c_str());
    if (ifindex == 0) {
        std::fprintf(stderr, "fizzhost-send: interface '%s': %s\n", iface.c_str(), std::strerror(errno));
        return 1;
    }
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        std::fprintf(stderr, "fizzhost-send: AF_PACKET socket: %s (needs CAP_NET_RAW)\n", std::strerror(errno));
        return 1;
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = int(ifindex);
    to.sll_halen = ETH_ALEN;
    const auto gap = pps ? std::chrono::nanoseconds(1'000'000'000 / pps) : std::chrono::nanoseconds(0);
    auto next = std::chrono::steady_clock::now();
    unsigned long sent = 0;
    for (unsigned r = 0; rounds == 0 || r < rounds; ++r) {
        for (unsigned i = 0; i < count; ++i) {
            frameShape.src = *first + i;
            const auto frame = fizzhost::measure::shapedFrame(frameShape);
            while (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
                if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                    std::fprintf(stderr, "fizzhost-send: sendto: %s\n", std::strerror(errno));
                    return 1;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
            ++sent;
            if (pps) {
                next += gap;
                std::this_thread::sleep_until(next);
            }
        }
    }
    std::fprintf(stderr, "fizzhost-send: %lu frames sent on %s\n", sent, iface.c_str());
    return 0;
}
