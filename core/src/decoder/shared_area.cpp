#include "decoder/shared_area.hpp"

#include "util/error.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace fizzhost::decoder {

SharedArea::SharedArea(protocol::Mode mode, uint32_t messageSize, uint32_t fieldCount, const std::string& name)
    : layout_(protocol::layoutFor(mode, messageSize, fieldCount)) {
    // Close-on-exec here; the spawn puts it on the worker's fd 3, which clears the flag there.
    fd_ = UniqueFd(::memfd_create(("fizzdecoder:" + name).c_str(), MFD_CLOEXEC));
    if (!fd_) throwErrno("decoder area for " + name + ": memfd_create", errno);
    // Sparse: pages of rings never used are never allocated.
    if (::ftruncate(fd_.get(), off_t(layout_.size)) != 0)
        throwErrno("decoder area for " + name + ": size " + std::to_string(layout_.size), errno);
    void* p = ::mmap(nullptr, layout_.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (p == MAP_FAILED) throwErrno("decoder area for " + name + ": mmap", errno);
    base_ = static_cast<unsigned char*>(p);
    control_ = new (base_) protocol::ControlBlock{};
    control_->magic = protocol::kMagic;
    control_->version = protocol::kVersion;
    control_->mode = mode;
    control_->channelCapacity = mode == protocol::Mode::Decode ? protocol::kMaxChannels : 0;
    control_->inputSize = layout_.inputSize;
    control_->outputSize = layout_.outputSize;
    control_->outputsOffset = layout_.outputsOffset;
    control_->slotCount = layout_.slotCount;
    control_->messageCapacity = layout_.messageCapacity;
    control_->fieldCount = fieldCount;
    control_->channelsOffset = layout_.channelsOffset;
    control_->channelStride = layout_.channelStride;
    control_->objectOffset = layout_.objectOffset;
    control_->objectCapacity = layout_.objectCapacity;
    control_->areaSize = layout_.size;
    control_->hostPid = ::getpid();
    if (mode == protocol::Mode::Decode)
        for (uint32_t c = 0; c < protocol::kMaxChannels; ++c)
            new (protocol::channelAt(base_, *control_, c)) protocol::ChannelHeader{};
}

SharedArea::~SharedArea() {
    if (base_) ::munmap(base_, layout_.size);
}

void SharedArea::resetWorkerReport() noexcept {
    control_->state.store(uint32_t(protocol::State::Starting), std::memory_order_relaxed);
    control_->phase.store(uint32_t(protocol::Phase::Confining), std::memory_order_relaxed);
    control_->cause.store(uint32_t(protocol::Cause::None), std::memory_order_relaxed);
    control_->causeNumber = 0;
    control_->causeArch = 0;
    std::memset(control_->causeText, 0, sizeof control_->causeText);
    std::memset(&control_->description, 0, sizeof control_->description);
    control_->sleeping.store(0, std::memory_order_release);
}

}  // namespace fizzhost::decoder
