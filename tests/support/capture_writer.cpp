#include "support/capture_writer.hpp"

#include <pcap/pcap.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace fizzhost::test {
namespace {

struct PcapClose {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
struct DumperClose {
    void operator()(pcap_dumper_t* d) const noexcept { pcap_dump_close(d); }
};

}  // namespace

void writePcap(const std::filesystem::path& path, const Frames& frames, int linkType) {
    std::unique_ptr<pcap_t, PcapClose> dead(pcap_open_dead(linkType, 65535));
    if (!dead) throw std::runtime_error("pcap_open_dead failed");
    std::unique_ptr<pcap_dumper_t, DumperClose> dumper(pcap_dump_open(dead.get(), path.c_str()));
    if (!dumper) throw std::runtime_error(path.string() + ": pcap_dump_open: " + pcap_geterr(dead.get()));
    for (const auto& f : frames) {
        pcap_pkthdr h{};
        h.caplen = h.len = uint32_t(f.size());
        pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &h, f.data());
    }
}

void writePcapng(const std::filesystem::path& path, const Frames& frames) {
    std::vector<uint8_t> out;
    auto u16 = [&](uint16_t v) { out.insert(out.end(), {uint8_t(v), uint8_t(v >> 8)}); };
    auto u32 = [&](uint32_t v) { u16(uint16_t(v)); u16(uint16_t(v >> 16)); };
    // Section header block: byte-order magic, version 1.0, section length unknown.
    u32(0x0A0D0D0A); u32(28); u32(0x1A2B3C4D); u16(1); u16(0); u32(0xffffffff); u32(0xffffffff); u32(28);
    // Interface description block: LINKTYPE_ETHERNET, snaplen 65535.
    u32(0x00000001); u32(20); u16(1); u16(0); u32(65535); u32(20);
    for (const auto& f : frames) {
        const uint32_t padded = (uint32_t(f.size()) + 3) / 4 * 4, total = 32 + padded;
        u32(0x00000006); u32(total); u32(0); u32(0); u32(0); u32(uint32_t(f.size())); u32(uint32_t(f.size()));
        out.insert(out.end(), f.begin(), f.end());
        out.resize(out.size() + (padded - f.size()), 0);
        u32(total);
    }
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
    if (!file.flush()) throw std::runtime_error(path.string() + ": cannot write the pcapng file");
}

}  // namespace fizzhost::test
