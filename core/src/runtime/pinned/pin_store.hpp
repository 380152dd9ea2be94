// The pinned state a host leaves for its successor, under a state root on bpffs:
//
//   <state_root>/<interface>/link                            the XDP bpf_link
//   <state_root>/<interface>/record                          what the successor needs to know
//   <state_root>/<interface>/<variant>-<prog id>-regions     fizz_regions of each live instance
//   <state_root>/<interface>/<variant>-<prog id>-queue       its message queue
//   <state_root>/<interface>/dispatcher-<prog id>-variants   during a rollout: the dispatcher's
//   <state_root>/<interface>/dispatcher-<prog id>-split      prog array and split threshold
//
// bpffs holds no regular files, so the record (pin_record.hpp) is a pinned one-element ARRAY map
// whose value is the record as JSON. It is written last: the pins it names exist before it
// names them, and pins it no longer names are removed after it was written. A commit writes it
// twice: before its kernel operation the record names the running state and, as "pending", the
// state about to run (its maps pinned first: the intent); after it, the new state alone (the
// outcome). Whatever instant a host dies at, the link runs a program the record names. Programs are not
// pinned: the link holds the one it runs, the dispatcher's prog array the variants, and the
// successor opens them by the ids the link and the record give. Pin names hold no dot: bpffs
// refuses those.
#pragma once

#include "bpf/pin.hpp"
#include "runtime/attachment/attachment.hpp"
#include "runtime/pinned/pin_record.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fizzhost::runtime {

/// A state about to run: its sources and dispatcher (null: none).
struct LiveState {
    const MessageSource* baseline = nullptr;
    const MessageSource* candidate = nullptr;
    const Dispatcher* dispatcher = nullptr;
};

class PinStore {
public:
    /// Makes `root` (mounting bpffs when needed, logged) and takes its lock for this object's life.
    /// Throws Error saying why it cannot; EWOULDBLOCK when another fizzhost holds the lock, EXDEV
    /// when the root holds state pinned from another network namespace.
    explicit PinStore(std::filesystem::path root);
    /// Opens an existing state root without locking it (callers lock as they need). Throws Error.
    static PinStore openUnlocked(std::filesystem::path root);
    /// A locked store removes its root when nothing is left in it, before it lets the lock go.
    ~PinStore();
    PinStore(PinStore&&) = default;
    PinStore& operator=(PinStore&&) = default;

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path folder(const std::string& ifname) const { return root_ / ifname; }
    /// Interfaces with a folder under the root, sorted.
    std::vector<std::string> interfaces() const;
    /// The record of `ifname`. Throws Error (ENOENT: none).
    PinRecord read(const std::string& ifname) const;
    /// Opens a pin of `ifname`'s folder. Throws Error.
    UniqueFd open(const std::string& ifname, const std::string& pin) const;

    /// Pins what `a` runs now (link, maps of every live instance, dispatcher maps) and writes its
    /// record, then removes pins the record no longer names. Throws Error; the state pinned before
    /// stays usable until the record is written.
    void save(const Attachment& a, const nlohmann::json& rolloutProgress = nullptr);
    /// Before a commit: pins the maps of `next` and writes a record naming what `a` runs now and,
    /// as pending, `next`. Removes nothing. Throws Error.
    void saveIntent(const Attachment& a, const LiveState& next, const nlohmann::json& rolloutProgress = nullptr);
    /// Detaches the pinned link (for every holder) and removes the interface's folder. Returns a
    /// line for the log. Throws Error when a pin cannot be removed.
    std::string remove(const std::string& ifname);
    /// Removes the interface's folder and pins, leaving the link alone (it was detached, or will be
    /// by its owner). Never throws; problems are logged.
    void forget(const std::string& ifname) noexcept;

    /// This process's network namespace, in the record's form. Throws Error.
    static std::string currentNetns();

private:
    struct Unlocked {};
    PinRecord pinState(const Attachment& a, const nlohmann::json& rolloutProgress, const LiveState* next,
                       std::vector<std::pair<std::string, int>>& pins);
    void refuseOtherNetns() const;
    PinStore(std::filesystem::path root, Unlocked);
    std::filesystem::path root_;
    bpf::DirLock lock_;
};

}  // namespace fizzhost::runtime
