// The command-line flags of FrameShapeOptions, shared by `fizzhost classify` and `fizzhost-send`.
#pragma once

#include "cli/frame_options.hpp"

#include <CLI/CLI.hpp>

namespace fizzhost::cli {

inline void addFrameShapeOptions(CLI::App* app, FrameShapeOptions& o) {
    app->add_option("--dst", o.dst, "IPv4 destination of the frames")->capture_default_str();
    app->add_option("--ttl", o.ttl, "IPv4 TTL")->check(CLI::Range(0, 255))->capture_default_str();
    app->add_option("--protocol", o.protocol, "udp, tcp, icmp or an IP protocol number")->capture_default_str();
    app->add_option("--src-port", o.srcPort, "UDP/TCP source port")->check(CLI::Range(0, 65535))->capture_default_str();
    app->add_option("--dst-port", o.dstPort, "UDP/TCP destination port")->check(CLI::Range(0, 65535))->capture_default_str();
    app->add_option("--vlan", o.vlans, "VLAN id, repeatable: outermost first; two make QinQ (802.1ad outside)")
        ->check(CLI::Range(0, 4095))
        ->allow_extra_args(false);  // one id per --vlan, so an address after it is not taken for a second
}

}  // namespace fizzhost::cli
