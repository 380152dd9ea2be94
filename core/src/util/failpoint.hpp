// Named failure points in the reload transaction: a TEST FACILITY, compiled in and inert unless
// the environment names points when the process starts.
//
//   FIZZHOST_FAILPOINTS="reload.catalog_read,reload.before_link_update" fizzhost --config ...
//
// The variable is read once, at the first use. Each point it names fails the first reload that
// reaches it, with Error("failure injected at '<name>' (FIZZHOST_FAILPOINTS)", ECANCELED), and is
// then spent (a point named NAME=kill instead kills the process with SIGKILL there: the crash
// tests' way to die at an exact instant), so successive reloads of one change fail at successive
// points and the next one succeeds. A name followed by ":stall" ("reload.catalog_read:stall") makes
// that point block the reload for good instead (it says so on stderr), for the test of a stop that
// cannot be taken in time (the daemon's stop grace). Points fire only while a reload or a
// progressive rollout's own move is in progress
// (FailpointArm): starting the host and attaching a returning interface never fail here. Unset, a
// point costs one load of a bool. The failure-injection tests (tests/netns/test_reload_failures.cpp,
// test_rollout_failures.cpp) prove with them that a transaction failing at any point leaves the
// running state untouched, drained and without leaks.
#pragma once

#include <string>
#include <vector>

namespace fizzhost {

namespace failpoints {
inline constexpr const char* kCatalogRead = "reload.catalog_read";          // the plugin folder was scanned
inline constexpr const char* kInstanceLoaded = "reload.instance_loaded";    // a new program instance loaded and verified
inline constexpr const char* kDispatcherBuilt = "reload.dispatcher_built";  // a new dispatcher loaded and filled
inline constexpr const char* kSourcesAdded = "reload.sources_added";        // new instances drained by the pump, before the commit
inline constexpr const char* kBeforeMapWrite = "reload.before_map_write";   // before the split's one map write
inline constexpr const char* kBeforeLinkUpdate = "reload.before_link_update";  // before the one bpf_link_update
// After the commit nothing may fail any more: these points only ever kill (NAME=kill), to prove that
// a host dying there leaves a state its successor adopts with every message delivered or counted.
inline constexpr const char* kAfterLinkUpdate = "reload.after_link_update";          // the link runs the new program
inline constexpr const char* kDuringRetire = "reload.during_retire";                // old state half drained
inline constexpr const char* kBeforeRecordOutcome = "reload.before_record_outcome";  // the record still names the intent
}  // namespace failpoints

/// Every point's name, in the order a reload reaches them (the ones that throw; crashpoint()'s
/// points come after them).
const std::vector<std::string>& knownFailpoints();
/// The points past the commit (crashpoint()), which only kill.
const std::vector<std::string>& knownCrashpoints();

/// Throws Error when `name` is named in FIZZHOST_FAILPOINTS, not spent yet, and a reload is in
/// progress. Thread-safe.
void failpoint(const char* name);

/// A point past the commit: when named NAME=kill (and a reload is in progress), SIGKILLs the
/// process; otherwise nothing. Never throws.
void crashpoint(const char* name) noexcept;

/// The points FIZZHOST_FAILPOINTS names (empty: failure injection is off), reading it if nothing
/// did yet: for the daemon to say so at start.
std::vector<std::string> enabledFailpoints();

/// While one exists, failpoint() may fire: a reload and a rollout's move hold one.
class FailpointArm {
public:
    FailpointArm();
    ~FailpointArm();
    FailpointArm(const FailpointArm&) = delete;
    FailpointArm& operator=(const FailpointArm&) = delete;
};

}  // namespace fizzhost
