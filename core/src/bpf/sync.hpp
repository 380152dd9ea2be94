// Waiting for BPF programs already running to finish.
#pragma once

namespace fizzhost::bpf {

/// Returns once every BPF program run that started before the call has finished: after a program
/// is swapped out (link update, prog-array update), nothing can still push into its maps, so
/// draining them afterwards sees every message. Throws Error.
///
/// The kernel offers no synchronize_rcu() syscall, but an update of a map-in-map from user space
/// waits for an RCU grace period (maybe_wait_bpf_programs() in kernel/bpf/syscall.c) so that no
/// program still uses the old inner map; XDP runs inside an RCU read-side section (NAPI/softirq),
/// so that grace period covers every in-flight XDP run too.
void waitForInflightPrograms();

}  // namespace fizzhost::bpf
