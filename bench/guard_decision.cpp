// fizzhost_guard_decision: wall time of guarded reload decisions (measure/reload_guard.cpp), as a
// daemon makes them one after another with one guard: fibonacci -> fibonacci-naive on the worst
// mix (must be refused), fibonacci -> fizzbuzz (accepted), then fizzbuzz -> fibonacci (accepted,
// both already measured once), each decision's verdict and milliseconds printed.
#include "measure/reload_guard.hpp"
#include "plugin/catalog.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstdio>

using namespace fizzhost;

int main() {
    plugin::Catalog shipped(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    shipped.rescan();
    plugin::Catalog examples(std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fibonacci-naive", plugin::FilePolicy{});
    examples.rescan();
    const auto fib = shipped.find("fibonacci"), fizzbuzz = shipped.find("fizzbuzz");
    const auto naive = examples.find("fibonacci-naive");
    auto guard = measure::makeReloadGuard(1.5, "worst");
    struct Step {
        const plugin::Plugin *running, *incoming;
    };
    const Step steps[] = {{fib.get(), naive.get()}, {fib.get(), fizzbuzz.get()}, {fizzbuzz.get(), fib.get()},
                          {fib.get(), naive.get()}, {fib.get(), fizzbuzz.get()}};
    std::printf("%-34s %10s %10s\n", "decision", "verdict", "ms");
    for (const auto& s : steps) {
        const auto start = std::chrono::steady_clock::now();
        const char* verdict = "accepted";
        try {
            guard(*s.running, *s.incoming);
        } catch (const Error& e) {
            std::printf("%s\n", e.what());
            verdict = "refused";
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("%-34s %10s %10.1f\n", (std::string(s.running->name()) + " -> " + std::string(s.incoming->name())).c_str(),
                    verdict, ms);
    }
    return 0;
}
