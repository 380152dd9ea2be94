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
    /// Instances a commit the host before died in was replacing, or about to start: nothing runs
    /// them now; their waiting messages are drained once, then they are retired.
    std::vector<std::shared_ptr<MessageSource>> leftovers;
    /// Such instances whose regions cannot be reached (why): their waiting messages are lost.
    std::vector<std::string> unreachable;
    std::vector<std::string> notes;  // for the log: which state was adopted, maps reached without their pin
};

/// A source on a recorded instance's pinned maps (and its program while one lives under its id and
/// tag), for draining what waits in it. Throws Error when a map or the plugin cannot be had.
std::shared_ptr<MessageSource> drainOnlySource(const PinStore& pins, const PinRecord& record, const PinnedVariant& v,
                                               const std::string& ifname, const plugin::Catalog& catalog,
                                               EventWriter& writer, decoder::DecoderService& decoders,
                                               std::vector<std::string>& notes);

/// Builds an Attachment on `ifc`'s pinned state. The variants' decoders are the catalog's plugins
/// of the recorded name and version (so the messages that waited are decoded by the code that
/// emitted them). The link may run the recorded state or the pending one (record.pending): the
/// one it runs is adopted. Throws Error, and changes nothing, when the state cannot be adopted: the
/// link is detached or on another device, the attach mode changed, the link runs neither state, or
/// a recorded plugin version is no longer in the plugin folder.
AdoptedState adoptPinned(const PinStore& pins, const PinRecord& record, const config::Interface& ifc,
                         const config::HostConfig& cfg, const plugin::Catalog& catalog, EventWriter& writer,
                         decoder::DecoderService& decoders);

}  // namespace fizzhost::runtime
