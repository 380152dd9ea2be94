#include "measure/decision_diff.hpp"

#include <algorithm>

namespace fizzhost::measure {
namespace {

// Where a cell sorts: what a reader must act on first.
int rank(const DiffCell& c) { return c.agree ? 2 : c.expected ? 1 : 0; }

// One program's decision on one frame.
struct Decision {
    std::string name;
    bool several = false;
};

Decision decide(FrameClassifier& c, const DiffFrame& f) {
    const auto messages = c.run(f.bytes, "frame " + std::to_string(f.number));
    Decision d;
    d.several = messages.size() > 1;
    // The last message decides, as fizz_emit's record for the shadow-mode dispatcher does; a
    // refusal anywhere marks the frame, since the refused message's kind is not known.
    bool refused = false;
    for (const auto& m : messages) refused = refused || !m.undecodable.empty();
    if (refused) d.name = kUndecodable;
    else if (messages.empty()) d.name = config::kNoKind;
    else d.name = c.plugin().kindName(messages.back().event.kind);
    return d;
}

}  // namespace

void DecisionTally::add(size_t frame, std::optional<uint32_t> src, const std::string& a, const std::string& b) {
    auto [it, fresh] = cells_.try_emplace({a, b});
    DiffCell& cell = it->second;
    if (fresh) {
        cell.a = a;
        cell.b = b;
        cell.agree = a == b;
        cell.expected = !cell.agree && expected_.contains(a, b);
    }
    ++cell.frames;
    if (!cell.agree && cell.examples.size() < examplesPerCell_) cell.examples.push_back({frame, src});
}

DecisionTable DecisionTally::table() const {
    DecisionTable t;
    t.notRun = notRun_;
    t.severalMessages = several_;
    for (const auto& [key, cell] : cells_) {
        t.compared += cell.frames;
        if (!cell.agree) (cell.expected ? t.expected : t.unexpected) += cell.frames;
        t.cells.push_back(cell);
    }
    std::stable_sort(t.cells.begin(), t.cells.end(), [](const DiffCell& x, const DiffCell& y) {
        if (rank(x) != rank(y)) return rank(x) < rank(y);
        return x.frames > y.frames;
    });
    for (const auto& e : expected_.cells())
        if (!cells_.contains({e.baseline, e.candidate})) t.unseen.push_back(e);
    return t;
}

DecisionTable decideFrames(FrameClassifier& a, FrameClassifier& b, const std::vector<DiffFrame>& frames,
                           const config::ExpectedCells& expected, size_t examplesPerCell) {
    DecisionTally tally(expected, examplesPerCell);
    for (const auto& f : frames) {
        if (f.bytes.size() < kEthernetHeaderBytes) {
            tally.addNotRun();
            continue;
        }
        const Decision da = decide(a, f), db = decide(b, f);
        if (da.several || db.several) tally.addSeveralMessages();
        tally.add(f.number, f.src, da.name, db.name);
    }
    return tally.table();
}

}  // namespace fizzhost::measure
