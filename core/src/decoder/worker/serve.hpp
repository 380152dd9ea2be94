// What the worker does with a loaded module: describe its descriptor into the control block, and
// decode the messages the host puts into the channels' rings until the host kills it.
#pragma once

#include "decoder/protocol.hpp"

namespace fizzhost::decoder::worker {

/// Copies what `d` says into control.description (strings into fixed arrays, kinds, fields; the
/// BPF object into the area when `area` is given and it fits). Reads only the members the
/// descriptor's minor defines. A bad pointer faults here, which the host reports as a crash
/// "while describing".
void describe(const fizzhost_plugin_descriptor& d, protocol::ControlBlock& control, unsigned char* area) noexcept;

/// Decodes the channels' messages in order, forever: spins briefly when idle, then sleeps on the
/// doorbell; exits when the host is gone.
[[noreturn]] void serve(protocol::ControlBlock& control, unsigned char* area, const fizzhost_plugin_descriptor& d) noexcept;

}  // namespace fizzhost::decoder::worker
