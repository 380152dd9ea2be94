// Differences a release means to make: cells of the confusion table, "BASELINE -> CANDIDATE" in
// the kind names the plugins declare ("none" for a frame nothing was emitted for). A deliberate
// rule change (v1.1.0 also tags TCP/8080 as Web) would otherwise be a disagreement on every such
// frame. Frames in an expected cell are reported but not held against the candidate; a
// disagreement in any other cell is unexpected. Written in a rollout table (`expected = [...]`,
// shadow mode or a shadow stage), given to `fizzhost diff` (--expect, --expect-file). Plain data
// and text; no kernel calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::config {

/// The decision of a frame the program emitted nothing for, in a cell's text.
inline constexpr std::string_view kNoKind = "none";

struct ExpectedCell {
    std::string baseline, candidate;  // kind names, or kNoKind
    /// "none -> Web".
    std::string text() const { return baseline + " -> " + candidate; }
    bool operator==(const ExpectedCell&) const = default;
};

/// Parses "BASELINE -> CANDIDATE": two kind names around one "->", spaces around each optional.
/// On failure returns nullopt, and sets `why` (what is wrong) and `offset` (0-based, where in
/// `text`) when given. A cell whose two sides are the same is refused: it is no difference.
std::optional<ExpectedCell> parseExpectedCell(std::string_view text, std::string* why = nullptr,
                                              size_t* offset = nullptr);

/// Parses one cell per line: blank lines and lines starting with '#' are skipped, and a cell may
/// be followed by a '#' comment. Throws Error(EINVAL) "<name>:<line>:<col>: <why>" at the first bad
/// line, or for a cell listed twice.
std::vector<ExpectedCell> parseExpectedList(std::string_view text, const std::string& name);

/// The matcher: is (baseline, candidate) a listed cell? Kind names compare exactly.
class ExpectedCells {
public:
    ExpectedCells() = default;
    explicit ExpectedCells(std::vector<ExpectedCell> cells) : cells_(std::move(cells)) {}
    bool contains(std::string_view baseline, std::string_view candidate) const;
    const std::vector<ExpectedCell>& cells() const { return cells_; }
    bool empty() const { return cells_.empty(); }

private:
    std::vector<ExpectedCell> cells_;
};

/// Checks every cell against the kinds the two plugins declare (kNoKind is always known): the
/// baseline side against `baselineKinds`, the candidate side against `candidateKinds`. The loader
/// cannot do it (it reads no plugin); whoever has both plugins does. Throws Error(EINVAL) at the
/// first unknown name: "<where>: expected cell 'none -> Webb': the candidate (fizz-web 1.1.0)
/// declares no kind 'Webb' (it declares Fizz, Web; did you mean 'Web'?)".
void checkExpectedKinds(const std::vector<ExpectedCell>& cells, const std::vector<std::string>& baselineKinds,
                        const std::string& baselineName, const std::vector<std::string>& candidateKinds,
                        const std::string& candidateName, const std::string& where);

}  // namespace fizzhost::config
