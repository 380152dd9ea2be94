#include "decoder/worker/serve.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace fizzhost::decoder::worker {
namespace {

using namespace protocol;

// Idle scans of every ring before the worker sleeps: a short spin, then scans that yield the CPU
// (on a busy machine the host's pump may be waiting for this very CPU), then the futex. Keeps a
// steady stream off the futex path without burning a CPU when traffic stops.
constexpr uint32_t kSpinScans = 64;
constexpr uint32_t kIdleScans = 1000;
// Wakes this often while asleep to see whether the host is still there (a second line behind the
// parent-death signal).
constexpr timespec kSleep{1, 0};

template <size_t N>
void copyString(char (&dst)[N], const char* src) noexcept {
    size_t i = 0;
    for (; src != nullptr && i < N && src[i] != 0; ++i) dst[i] = src[i];
    if (i < N) dst[i] = 0;  // one that fills the array keeps no NUL: the host refuses it as too long
}

bool declaresFields(const fizzhost_plugin_descriptor& d) {
    return d.abi_minor >= 1 && d.struct_size >= FIZZHOST_DESCRIPTOR_SIZE_1_1;
}

struct Decoder {
    fizzhost_decode_fn plain = nullptr;
    fizzhost_decode_fields_fn fields = nullptr;
    uint32_t fieldCount = 0, capacity = 0;
};

void decodeSlot(SlotInput* in, SlotOutput* out, const Decoder& dec) noexcept {
    const uint32_t size = in->size;
    out->event = fizzhost_event{};
    if (size > dec.capacity) {
        out->rc = kRcOversize;
        return;
    }
    const unsigned char* raw = inputRaw(in);
    if (dec.fields) {
        fizzhost_field_value* f = outputFields(out);
        for (uint32_t i = 0; i < dec.fieldCount; ++i) f[i].set = 0;
        out->rc = dec.fields(raw, size, &out->event, f, dec.fieldCount);
    } else {
        out->rc = dec.plain(raw, size, &out->event);
    }
}

inline void cpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

bool anyWork(ControlBlock& control, unsigned char* area, uint32_t limit) noexcept {
    for (uint32_t c = 0; c < limit; ++c) {
        ChannelHeader* ch = channelAt(area, control, c);
        if (ch->active.load(std::memory_order_acquire) &&
            ch->done.load(std::memory_order_relaxed) < ch->head.load(std::memory_order_acquire))
            return true;
    }
    return false;
}

// Says it sleeps, looks once more (the host bumps the doorbell only when it sees the flag), then
// waits for the doorbell to move.
void waitForWork(ControlBlock& control, unsigned char* area, uint32_t limit) noexcept {
    const uint32_t bell = control.doorbell.load(std::memory_order_acquire);
    control.sleeping.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!anyWork(control, area, limit))
        ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&control.doorbell), FUTEX_WAIT, bell, &kSleep, nullptr, 0);
    control.sleeping.store(0, std::memory_order_relaxed);
    if (::getppid() != control.hostPid) _exit(0);
}

}  // namespace

void describe(const fizzhost_plugin_descriptor& d, ControlBlock& control, unsigned char* area) noexcept {
    Description& out = control.description;
    fizzhost_plugin_metadata& r = out.record;
    out.magic = d.magic;
    out.abiMajor = d.abi_major;
    out.abiMinor = d.abi_minor;
    out.structSize = d.struct_size;
    copyString(r.name, d.name);
    copyString(r.version, d.version);
    copyString(r.program, d.program);
    copyString(r.message_map, d.message_map);
    r.message_size = d.message_size;
    r.kind_count = d.kind_count;
    for (uint32_t k = 0; d.kinds != nullptr && k < std::min<uint32_t>(d.kind_count, FIZZHOST_MAX_KINDS); ++k)
        copyString(r.kinds[k], d.kinds[k]);
    if (declaresFields(d)) {
        out.fieldCount = d.field_count;
        r.field_count = d.field_count;
        for (uint32_t f = 0; d.fields != nullptr && f < std::min<uint32_t>(d.field_count, FIZZHOST_MAX_FIELDS); ++f)
            std::memcpy(&r.fields[f], &d.fields[f], sizeof r.fields[f]);
    }
    out.objectSize = d.bpf_object_size;
    if (area != nullptr && d.bpf_object != nullptr && d.bpf_object_size <= control.objectCapacity)
        std::memcpy(area + control.objectOffset, d.bpf_object, size_t(d.bpf_object_size));
}

void serve(ControlBlock& control, unsigned char* area, const fizzhost_plugin_descriptor& d) noexcept {
    Decoder dec;
    dec.capacity = control.messageCapacity;
    dec.fieldCount = control.fieldCount;
    if (declaresFields(d) && d.decode_fields != nullptr)
        dec.fields = d.decode_fields;
    else
        dec.plain = d.decode;
    uint64_t progress = control.progress.load(std::memory_order_relaxed);
    uint32_t idle = 0;
    for (;;) {
        bool worked = false;
        const uint32_t limit =
            std::min(control.channelLimit.load(std::memory_order_acquire), control.channelCapacity);
        for (uint32_t c = 0; c < limit; ++c) {
            ChannelHeader* ch = channelAt(area, control, c);
            if (!ch->active.load(std::memory_order_acquire)) continue;
            const uint64_t head = ch->head.load(std::memory_order_acquire);
            uint64_t done = ch->done.load(std::memory_order_relaxed);
            if (done >= head) continue;
            const uint64_t end = std::min<uint64_t>(head, done + kBatch);
            for (; done < end; ++done) {
                // Recorded before the decoder runs: if it never returns, the host knows which
                // message it was on.
                control.currentChannel.store(c, std::memory_order_relaxed);
                control.currentSeq.store(done, std::memory_order_relaxed);
                control.progress.store(++progress, std::memory_order_relaxed);
                decodeSlot(inputAt(ch, control, done), outputAt(ch, control, done), dec);
            }
            ch->done.store(done, std::memory_order_release);
            worked = true;
        }
        if (worked) {
            idle = 0;
        } else if (++idle < kSpinScans) {
            cpuRelax();
        } else if (idle < kIdleScans) {
            ::sched_yield();
        } else {
            idle = 0;
            waitForWork(control, area, limit);
        }
    }
}

}  // namespace fizzhost::decoder::worker
