// Frames from a capture file for `fizzhost classify --pcap`: pcap or pcapng through libpcap,
// Ethernet link type only (what an XDP program sees).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

namespace fizzhost::cli {

struct CaptureFrame {
    size_t number = 0;                // 1-based, in file order
    std::span<const uint8_t> bytes;   // as captured (may be shorter than on the wire)
    uint32_t wireLength = 0;          // the frame's length on the wire
};

using CaptureFn = std::function<void(const CaptureFrame&)>;

/// Calls `fn` for every frame of the pcap or pcapng file at `path`, in order; returns the count.
/// Opens without blocking and refuses anything but a regular file. Throws Error naming the file
/// (and the frame number where reading stopped): unreadable, not a capture, a link type other
/// than Ethernet, a truncated file. Frames before a truncation have been handed to `fn`.
size_t readCapture(const std::filesystem::path& path, const CaptureFn& fn);

/// The same from an open stream (taken over and closed); `name` stands for it in messages.
size_t readCapture(std::FILE* stream, const std::string& name, const CaptureFn& fn);

}  // namespace fizzhost::cli
