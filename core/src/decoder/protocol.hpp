// What the host and a decoder worker (fizzhost-decoder) share: one memfd, mapped by both. It holds
// a control block, then either one message ring per channel (decode mode) or room for the BPF object
// an ABI 1.0 descriptor points at (describe mode). Plain structs and lock-free atomics only, so the
// same bytes mean the same to both processes; the only header the worker and the host both compile.
//
// Why one worker per plugin module (name, version, sha256) per host, serving one channel per message
// source: the failure domain is the code that failed. A decoder that crashes takes down the
// messages of that build only, whichever interfaces run it; a process per interface x variant
// would multiply processes (64 interfaces would mean 64-192 workers) without isolating anything
// more, since every one of them runs the same code. So 64 interfaces stay at 1-3 workers.
//
// A channel is a single-producer single-consumer ring of fixed-size slots: the host copies a raw
// message into the input half of slot[head] and publishes head (release); the worker decodes
// slot[done] in place (rc, event, fields into the slot's output half) and publishes done
// (release); the host collects [tail, done) in order. A slot's halves sit in two arrays, inputs
// and outputs, so each cache line travels one way only (host to worker, or worker to host)
// instead of bouncing between the writer of the message and the writer of its result.
// Everything the worker writes is untrusted: the host clamps done into [tail, head], copies a
// slot's output before looking at it, and checks rc, kind and lengths.
#pragma once

#include <fizzhost/plugin_abi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace fizzhost::decoder::protocol {

inline constexpr uint32_t kMagic = 0x6b647a66u;  // "fzdk" little-endian
inline constexpr uint32_t kVersion = 1;
/// Where the worker finds the shared area (stdin, stdout and stderr are /dev/null).
inline constexpr int kAreaFd = 3;
/// Channels one worker serves: 64 interfaces, each with a variant and its successor during a swap,
/// with room to spare. open() refuses more with a clear message.
inline constexpr uint32_t kMaxChannels = 256;
/// Bytes of slots (both halves) per channel (rounded down to a power-of-two slot count,
/// kMinSlots..kMaxSlots).
inline constexpr uint64_t kChannelRingBytes = 128u << 10;
inline constexpr uint32_t kMinSlots = 64;
inline constexpr uint32_t kMaxSlots = 1u << 16;
/// Largest BPF object an ABI 1.0 descriptor may hand back (the module file is at most 64 MiB).
inline constexpr uint64_t kMaxDescribedObject = 32u << 20;
/// Messages the worker decodes from one channel before it publishes done and looks at the next.
inline constexpr uint32_t kBatch = 256;

/// The rc the host itself writes into a slot's output whose message killed the worker twice (its
/// reason is host-side, indexed by event.kind). Distinct from every errno and from FIZZHOST_DECODE_THREW.
inline constexpr int32_t kRcWorkerFailure = -20001;
/// The rc of a message larger than a slot holds: never handed to the decoder (the SDK's
/// trampolines refuse any size but their message's with -EINVAL too).
inline constexpr int32_t kRcOversize = -22;  // -EINVAL

enum class Mode : uint32_t { Decode = 1, Describe = 2 };
enum class State : uint32_t { Starting = 0, Ready = 1, Described = 2 };
/// Where the worker was; the host words a death by it ("while loading the module").
enum class Phase : uint32_t { Confining = 0, Loading = 1, Describing = 2, Decoding = 3 };
/// Why the worker stopped, when it knows (written just before it exits).
enum class Cause : uint32_t {
    None = 0,
    ForbiddenSyscall = 1,  // SIGSYS from the seccomp filter: number = syscall, arch = AUDIT_ARCH_*
    OutOfMemory = 2,       // operator new failed (the new-handler ran)
    Terminate = 3,         // std::terminate: an exception left a noexcept function
    LoadFailed = 4,        // dlopen or the entry point failed; text says why
    ConfineFailed = 5,     // a confinement step failed; text says which, number = errno
    BadArguments = 6,      // the host and the worker disagree about the area (a build mismatch)
};

/// An ABI 1.0 descriptor as the worker read it (describe mode; in decode mode the same without the
/// object, which the host compares with what it knows). Untrusted: the host checks every member.
/// Strings are copied into the record's arrays; one that does not fit leaves no NUL there.
struct Description {
    uint32_t magic;
    uint16_t abiMajor, abiMinor;
    uint32_t structSize;
    uint32_t fieldCount;  // ABI 1.1 descriptors
    uint64_t objectSize;  // what the descriptor declares (copied only in describe mode, when it fits)
    fizzhost_plugin_metadata record;  // name, version, program, message map, sizes, kinds, fields
};

struct alignas(64) ControlBlock {
    // Written by the host before the worker starts; read-only afterwards.
    uint32_t magic, version;
    Mode mode;
    uint32_t channelCapacity;  // decode mode: kMaxChannels
    uint32_t inputSize, outputSize, slotCount, messageCapacity, fieldCount;
    uint32_t outputsOffset;  // within a channel
    uint64_t channelsOffset, channelStride;
    uint64_t objectOffset, objectCapacity;  // describe mode
    uint64_t areaSize;
    int32_t hostPid;  // the worker exits when its parent is no longer this process

    // Written by the worker.
    alignas(64) std::atomic<uint32_t> state;
    std::atomic<uint32_t> phase;
    std::atomic<uint32_t> cause;
    int32_t causeNumber;
    uint32_t causeArch;
    char causeText[244];  // NUL-terminated when the worker behaves
    Description description;

    // The worker's progress: which message it is decoding (set before the decoder runs).
    alignas(64) std::atomic<uint64_t> progress;  // bumped per message
    std::atomic<uint64_t> currentSeq;
    std::atomic<uint32_t> currentChannel;

    // Wake-ups: the host bumps the doorbell after publishing, and FUTEX_WAKEs only when the worker
    // said it sleeps (it re-checks every ring after saying so, before it waits).
    alignas(64) std::atomic<uint32_t> doorbell;
    std::atomic<uint32_t> sleeping;

    // Channels in use are below this bound (host-written).
    alignas(64) std::atomic<uint32_t> channelLimit;
};

struct alignas(64) ChannelHeader {
    alignas(64) std::atomic<uint64_t> head;    // host: messages published
    alignas(64) std::atomic<uint64_t> done;    // worker: messages decoded (host, after a worker's death)
    alignas(64) std::atomic<uint32_t> active;  // host: 1 while a channel uses this index
};

/// A slot's input half (host-written): this, then the raw message (messageCapacity bytes).
struct SlotInput {
    uint32_t size;  // of the raw message
    uint32_t reserved;
};

/// A slot's output half (worker-written): this, then fieldCount fizzhost_field_value.
struct SlotOutput {
    int32_t rc;  // the decoder's return (or kRcWorkerFailure, kRcOversize)
    uint32_t reserved;
    fizzhost_event event;
};

static_assert(std::is_standard_layout_v<ControlBlock> && std::is_standard_layout_v<ChannelHeader>);
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "atomics shared between processes must be lock-free (address-free)");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4);
static_assert(sizeof(SlotInput) == 8 && sizeof(SlotOutput) == 24);
static_assert(alignof(fizzhost_field_value) <= 8 && sizeof(fizzhost_field_value) == 64);
static_assert(sizeof(ControlBlock) <= 4096, "the control block fits its page");

inline constexpr uint64_t roundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

/// The shape of an area: where everything is, for a plugin's message size and field count.
struct Layout {
    uint32_t inputSize = 0, outputSize = 0, slotCount = 0, messageCapacity = 0, outputsOffset = 0;
    uint64_t channelsOffset = 0, channelStride = 0, objectOffset = 0, objectCapacity = 0, size = 0;
};

inline constexpr Layout layoutFor(Mode mode, uint32_t messageSize, uint32_t fieldCount) {
    Layout l;
    l.channelsOffset = 4096;
    if (mode == Mode::Describe) {
        l.objectOffset = 4096;
        l.objectCapacity = kMaxDescribedObject;
        l.size = l.objectOffset + l.objectCapacity;
        return l;
    }
    l.messageCapacity = uint32_t(roundUp(messageSize == 0 ? 8 : messageSize, 8));
    l.inputSize = uint32_t(sizeof(SlotInput) + l.messageCapacity);
    l.outputSize = uint32_t(sizeof(SlotOutput) + uint64_t(fieldCount) * sizeof(fizzhost_field_value));
    uint32_t slots = kMaxSlots;
    while (slots > kMinSlots && uint64_t(slots) * (l.inputSize + l.outputSize) > kChannelRingBytes) slots /= 2;
    l.slotCount = slots;
    l.outputsOffset = uint32_t(roundUp(sizeof(ChannelHeader) + uint64_t(slots) * l.inputSize, 64));
    l.channelStride = roundUp(l.outputsOffset + uint64_t(slots) * l.outputSize, 4096);
    l.size = l.channelsOffset + l.channelStride * kMaxChannels;
    return l;
}

inline ChannelHeader* channelAt(void* area, const ControlBlock& c, uint32_t index) {
    return reinterpret_cast<ChannelHeader*>(static_cast<unsigned char*>(area) + c.channelsOffset +
                                            uint64_t(index) * c.channelStride);
}

inline SlotInput* inputAt(ChannelHeader* channel, const ControlBlock& c, uint64_t seq) {
    return reinterpret_cast<SlotInput*>(reinterpret_cast<unsigned char*>(channel) + sizeof(ChannelHeader) +
                                        (seq & (c.slotCount - 1)) * c.inputSize);
}

inline SlotOutput* outputAt(ChannelHeader* channel, const ControlBlock& c, uint64_t seq) {
    return reinterpret_cast<SlotOutput*>(reinterpret_cast<unsigned char*>(channel) + c.outputsOffset +
                                         (seq & (c.slotCount - 1)) * c.outputSize);
}

inline unsigned char* inputRaw(SlotInput* in) { return reinterpret_cast<unsigned char*>(in + 1); }
inline fizzhost_field_value* outputFields(SlotOutput* out) { return reinterpret_cast<fizzhost_field_value*>(out + 1); }

}  // namespace fizzhost::decoder::protocol
