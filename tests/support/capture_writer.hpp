// Capture files written for tests: pcap through libpcap's own dumper, pcapng laid out by hand
// (libpcap reads pcapng but cannot write it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace fizzhost::test {

using Frames = std::vector<std::vector<uint8_t>>;

/// Writes `frames` to a pcap file at `path` with `linkType` (a DLT_ value; 1 = Ethernet), each
/// frame captured whole. Throws std::runtime_error when libpcap cannot create the file.
void writePcap(const std::filesystem::path& path, const Frames& frames, int linkType = 1);

/// Writes `frames` to a little-endian pcapng file at `path`: a section header, one Ethernet
/// interface description, an enhanced packet block per frame. Throws std::runtime_error on a
/// write error.
void writePcapng(const std::filesystem::path& path, const Frames& frames);

}  // namespace fizzhost::test
