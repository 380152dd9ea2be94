// SPDX-License-Identifier: GPL-2.0
/* The shipped fizzbuzz program, built so that fizz_parse_ipv4_saddr() is the frame walk alone
 * (fizz_parse_frame_ipv4_saddr: no look at the dispatcher's metadata). bench/dispatcher_cost.cpp
 * runs it next to the shipped build to show what the handoff check costs a classifier that runs
 * without the dispatcher. Never behind a dispatcher that hands over metadata: it would not remove it. */
#include <fizz/classifier.h>

#define fizz_parse_ipv4_saddr fizz_parse_frame_ipv4_saddr
#include "fizzbuzz.bpf.c"
