// What every benchmark file of fizzhost_bench_programs shares: the build tree's plugins, and a way
// to register benchmarks that depend on what is found at run time (one per plugin).
#pragma once

#include "plugin/catalog.hpp"

namespace fizzhost::bench {

/// The plugins of the build tree (FIZZHOST_PLUGIN_DIR, or $FIZZHOST_BENCH_PLUGIN_DIR when set),
/// scanned on first use. Throws Error when the folder is missing.
const plugin::Catalog& catalog();

/// Adds a function that registers benchmarks (benchmark::RegisterBenchmark); main() calls every one
/// after parsing the flags and before running. Call from a namespace-scope initializer:
///     [[maybe_unused]] const bool kRegistered = fizzhost::bench::addRegistrar(&registerMine);
/// Returns true. Not thread-safe (static initialization only).
bool addRegistrar(void (*registrar)());

/// Calls every registrar once, in the order they were added. For main().
void runRegistrars();

}  // namespace fizzhost::bench
