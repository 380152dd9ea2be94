#include "runtime/rollout/shadow_comparison.hpp"

#include <algorithm>

namespace fizzhost::runtime {

std::string decisionName(uint32_t decision, const std::vector<std::string>& kinds) {
    if (decision == FIZZ_DECISION_NONE) return "none";
    if (decision == FIZZ_DECISION_OTHER) return "kind >= " + std::to_string(FIZZ_MAX_KINDS);
    const uint32_t kind = decision - 1;
    return kind < kinds.size() ? kinds[kind] : "kind " + std::to_string(kind);
}

ShadowComparison compareDecisions(const ShadowCounts& counts, const std::vector<std::string>& baselineKinds,
                                  const std::vector<std::string>& candidateKinds,
                                  const config::ExpectedCells& expected) {
    ShadowComparison out;
    for (uint32_t b = 0; b < FIZZ_DECISIONS; ++b)
        for (uint32_t c = 0; c < FIZZ_DECISIONS; ++c) {
            const uint64_t frames = counts.frames[b][c];
            if (frames == 0) continue;
            ShadowCell cell;
            cell.baseline = decisionName(b, baselineKinds);
            cell.candidate = decisionName(c, candidateKinds);
            cell.frames = frames;
            // Undeclared kinds are never "the same" as anything: the decoder refuses them.
            const bool declared = b != FIZZ_DECISION_OTHER && c != FIZZ_DECISION_OTHER &&
                                  (b == FIZZ_DECISION_NONE || b - 1 < baselineKinds.size()) &&
                                  (c == FIZZ_DECISION_NONE || c - 1 < candidateKinds.size());
            cell.agree = declared && cell.baseline == cell.candidate;
            if (!cell.agree) {
                cell.examples = counts.examples[b][c];
                out.disagreed += frames;
                cell.expected = expected.contains(cell.baseline, cell.candidate);
                if (!cell.expected) out.unexpected += frames;
            }
            out.compared += frames;
            out.cells.push_back(std::move(cell));
        }
    std::stable_sort(out.cells.begin(), out.cells.end(), [](const ShadowCell& x, const ShadowCell& y) {
        if (x.agree != y.agree) return !x.agree;
        return x.frames > y.frames;
    });
    return out;
}

}  // namespace fizzhost::runtime
