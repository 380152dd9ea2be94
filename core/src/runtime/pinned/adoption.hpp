// Adopting the pinned state a previous host left for an interface (runtime/pinned/pin_store.hpp): the same
// link, and the same program instances with their regions (counters and waiting messages) when
// they are what the config asks for now. The host then runs its ordinary reload preparation
// against the adopted attachment: nothing to do when everything matches, else new programs and one
// bpf_link_update on the kept link.
#pragma once

#include "config/host_config.hpp"
#include "plugin/catalog.hpp"
#include "runtime/attachment/attachment.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/pinned/pin_store.hpp"

#include <memory>
#include <string>

namespace fizzhost::runtime {

struct AdoptedState {
    std::unique_ptr<Attachment> attachment;  // standing on the pinned link, programs and maps
    /// The config's plugins (name, version, module SHA-256) and settings (transport, sizes) match
    /// what runs: keep the programs. Otherwise every variant is loaded anew and swapped in.
    bool samePrograms = false;
    std::string differences;  // why not, for the log ("" when samePrograms)
};

/// Builds an Attachment on `ifc`'s pinned state. The variants' decoders are the catalog's plugins
/// of the recorded name and version (so the messages that waited are decoded by the code that
/// emitted them). Throws Error, and changes nothing, when the state cannot be adopted: the link is
/// detached or on another device, the attach mode changed, the record is stale or unreadable, or a
/// recorded plugin version is no longer in the plugin folder.
AdoptedState adoptPinned(const PinStore& pins, const PinRecord& record, const config::Interface& ifc,
                         const config::HostConfig& cfg, const plugin::Catalog& catalog, EventWriter& writer,
                         decoder::DecoderService& decoders);

}  // namespace fizzhost::runtime
