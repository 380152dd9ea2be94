// A module's code loaded into this process: a sealed private copy of its checked bytes, dlopened,
// its descriptor validated. Only for decoders that run in-process: plugins trusted with
// `[decoders] isolation = "none"`, and the daemon's message pump until it decodes through
// decoder::DecoderService (phase 2 of confined decoding). Loading runs the module's constructors
// with this process's privileges: confined decoding never does this.
#pragma once

#include "util/unique_fd.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace boost::dll {
class shared_library;
}

namespace fizzhost::plugin {

class ModuleCode {
public:
    /// Copies `bytes` (read from `path` and checked) into a sealed memfd, dlopens that and validates
    /// the descriptor (Plugin::validate). Throws Error naming `path`.
    static std::shared_ptr<const ModuleCode> load(std::span<const unsigned char> bytes, const std::filesystem::path& path);

    const fizzhost_plugin_descriptor& descriptor() const { return *descriptor_; }

    /// Hot path: decodes one raw message into `out` and `fields` (`fieldCount` entries, whose `set`
    /// is cleared here first). Returns 0 or a negative errno (FIZZHOST_DECODE_THREW when the SDK's
    /// trampoline caught an exception). Never throws, never allocates; a decoder that crashes or
    /// throws from a noexcept function takes this process with it.
    int decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields,
               uint32_t fieldCount) const noexcept;

    ~ModuleCode();

private:
    ModuleCode() = default;

    // The private memory copy stays open while the module is loaded: the loader knows the module
    // by the path "/proc/self/fd/N", and a reused N would hand back this module. Declared before
    // library_ so it is closed after the module is unloaded.
    UniqueFd memfd_;
    std::shared_ptr<boost::dll::shared_library> library_;
    const fizzhost_plugin_descriptor* descriptor_ = nullptr;
    fizzhost_decode_fn decode_ = nullptr;
    fizzhost_decode_fields_fn decodeFields_ = nullptr;
};

}  // namespace fizzhost::plugin
