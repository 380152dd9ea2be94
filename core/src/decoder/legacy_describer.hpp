// Reading an ABI 1.0 module without running it as root: such a module has no metadata record, so
// what it is (name, version, program, message map and size, kinds, BPF object) is known only by
// calling its descriptor, which is the module's code. A short-lived worker in describe mode does
// that under the same confinement as a decoding worker and hands the answer back through the
// shared area; the catalog (plugin::CatalogOptions::describe) checks it as untrusted data.
#pragma once

#include "plugin/plugin_info.hpp"
#include "util/decoder_settings.hpp"

namespace fizzhost::decoder {

/// A describer for the catalog. When this process is not root (it could not confine a worker) it
/// returns an empty describer: the catalog then lists ABI 1.0 modules by file name and runs none.
/// Errors (the worker crashed, hung, made a forbidden call) name the file and the reason.
plugin::Describer legacyDescriber(const DecoderSettings& settings, bool allowInsecure);

}  // namespace fizzhost::decoder
