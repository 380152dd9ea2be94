/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * FIZZ_MAP_DECISION: the kind decided on for the current frame, for the A/B dispatcher in shadow
 * mode. It runs both variants on every frame and compares what each decided; the host gives both
 * variants and the dispatcher one shared map (bpf_map__reuse_fd), so the classifier
 * (<fizz/classifier.h>) and the dispatcher (bpf/dispatcher.bpf.c) declare it here, once: a map
 * reused across objects must have the same definition in each.
 */
#ifndef FIZZ_DECISION_H
#define FIZZ_DECISION_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Per CPU: the current frame's decision as <fizz/shared.h> writes it (FIZZ_DECISION_*). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fizz_decision SEC(".maps");

#endif /* FIZZ_DECISION_H */
