// libFuzzer harness: arbitrary bytes as a capture file for `classify --pcap`. The reader may refuse
// them only with fizzhost::Error; every frame it hands out must lie inside what it read.
#include "cli/capture.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;  // fmemopen refuses an empty buffer
    std::FILE* stream = ::fmemopen(const_cast<uint8_t*>(data), size, "rb");
    if (!stream) return 0;
    size_t last = 0;
    try {
        fizzhost::cli::readCapture(stream, "fuzz.pcap", [&](const fizzhost::cli::CaptureFrame& f) {
            if (f.number != last + 1) __builtin_trap();
            last = f.number;
            volatile uint8_t sink = 0;
            for (uint8_t b : f.bytes) sink = uint8_t(sink ^ b);  // ASan checks every byte handed out is readable
            (void)sink;
        });
    } catch (const fizzhost::Error&) {
    }
    return 0;
}
