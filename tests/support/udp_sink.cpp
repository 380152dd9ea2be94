#include "support/udp_sink.hpp"

#include "support/frame_builder.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace fizzhost::test {

void acceptTestFrames(const NetNs& ns, const std::string& ifname) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", kDstMac[0], kDstMac[1], kDstMac[2], kDstMac[3],
                  kDstMac[4], kDstMac[5]);
    run({"ip", "-n", ns.name(), "link", "set", "dev", ifname, "address", mac});
    run({"ip", "-n", ns.name(), "addr", "add", formatIpv4(kDefaultDst) + "/15", "dev", ifname});
}

UdpSink::UdpSink(const NetNs& ns, uint16_t port) {
    ScopedNetns in(ns);
    fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) throw std::runtime_error("udp sink: socket: " + std::string(std::strerror(errno)));
    const int bytes = 16 << 20;
    // As root the buffer may exceed rmem_max (SO_RCVBUFFORCE), so a burst of frames is kept whole.
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("udp sink: bind port " + std::to_string(port) + ": " + std::strerror(errno));
}

uint64_t UdpSink::count() {
    char buf[2048];
    while (::recv(fd_.get(), buf, sizeof buf, 0) >= 0) ++received_;
    return received_;
}

}  // namespace fizzhost::test
