#include "config/expected_cells.hpp"

#include "util/error.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

#include <algorithm>

namespace fizzhost::config {
namespace {

constexpr std::string_view kArrow = "->";
constexpr std::string_view kSpaces = " \t\r";

// [first, last) of `text` without the spaces around it.
std::pair<size_t, size_t> trimmed(std::string_view text, size_t first, size_t last) {
    while (first < last && kSpaces.find(text[first]) != std::string_view::npos) ++first;
    while (last > first && kSpaces.find(text[last - 1]) != std::string_view::npos) --last;
    return {first, last};
}

std::optional<ExpectedCell> refuse(std::string* why, size_t* offset, std::string problem, size_t at) {
    if (why) *why = std::move(problem);
    if (offset) *offset = at;
    return std::nullopt;
}

void checkSide(const ExpectedCell& cell, const std::string& name, const std::vector<std::string>& kinds,
               const std::string& who, const std::string& where) {
    if (name == kNoKind || std::find(kinds.begin(), kinds.end(), name) != kinds.end()) return;
    std::string declared;
    for (const auto& k : kinds) declared += (declared.empty() ? "" : ", ") + printable(k);
    std::string problem = where + ": expected cell '" + printable(cell.text()) + "': " + who + " declares no kind '" +
                          printable(name) + "' (it declares " + declared;
    // A short name is near every other short name: allow a third of its letters to differ, 1 to 2.
    const size_t maxEdits = std::clamp<size_t>(name.size() / 3, 1, 2);
    if (auto near = closestWord(name, kinds, maxEdits)) problem += "; did you mean '" + printable(*near) + "'?";
    throw Error(problem + ")", EINVAL);
}

}  // namespace

std::optional<ExpectedCell> parseExpectedCell(std::string_view text, std::string* why, size_t* offset) {
    const auto [first, last] = trimmed(text, 0, text.size());
    const size_t arrow = text.find(kArrow, first);
    if (arrow == std::string_view::npos || arrow >= last)
        return refuse(why, offset, "expected BASELINE -> CANDIDATE in kind names (e.g. \"none -> Web\"), found no '->'",
                      first);
    if (const size_t again = text.find(kArrow, arrow + kArrow.size()); again < last)
        return refuse(why, offset, "more than one '->': a cell is one BASELINE -> CANDIDATE pair", again);
    const auto [bFirst, bLast] = trimmed(text, first, arrow);
    const auto [cFirst, cLast] = trimmed(text, arrow + kArrow.size(), last);
    if (bFirst == bLast) return refuse(why, offset, "no baseline kind before '->' (\"none\" for no message)", arrow);
    if (cFirst == cLast)
        return refuse(why, offset, "no candidate kind after '->' (\"none\" for no message)", arrow + kArrow.size());
    ExpectedCell cell{std::string(text.substr(bFirst, bLast - bFirst)), std::string(text.substr(cFirst, cLast - cFirst))};
    for (const auto& [name, at] : {std::pair{cell.baseline, bFirst}, std::pair{cell.candidate, cFirst}})
        if (hasHiddenCharacters(name))
            return refuse(why, offset, "kind name '" + printable(name) + "' holds control or invisible characters", at);
    if (cell.baseline == cell.candidate)
        return refuse(why, offset,
                      "'" + printable(cell.text()) + "' is no difference: both sides are '" + printable(cell.baseline) + "'",
                      bFirst);
    return cell;
}

std::vector<ExpectedCell> parseExpectedList(std::string_view text, const std::string& name) {
    std::vector<ExpectedCell> out;
    std::vector<size_t> lines;
    size_t lineNo = 0;
    for (size_t start = 0; start <= text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        ++lineNo;
        std::string_view line = text.substr(start, end - start);
        line = line.substr(0, line.find('#'));
        if (line.find_first_not_of(kSpaces) != std::string_view::npos) {
            std::string why;
            size_t offset = 0;
            auto cell = parseExpectedCell(line, &why, &offset);
            auto place = [&](size_t at) { return name + ":" + std::to_string(lineNo) + ":" + std::to_string(at + 1) + ": "; };
            if (!cell) throw Error(place(offset) + why, EINVAL);
            if (auto it = std::find(out.begin(), out.end(), *cell); it != out.end())
                throw Error(place(line.find_first_not_of(kSpaces)) + "'" + printable(cell->text()) +
                                "' is listed twice (first on line " + std::to_string(lines[size_t(it - out.begin())]) + ")",
                            EINVAL);
            out.push_back(std::move(*cell));
            lines.push_back(lineNo);
        }
        start = end + 1;
    }
    return out;
}

bool ExpectedCells::contains(std::string_view baseline, std::string_view candidate) const {
    return std::any_of(cells_.begin(), cells_.end(),
                       [&](const ExpectedCell& c) { return c.baseline == baseline && c.candidate == candidate; });
}

void checkExpectedKinds(const std::vector<ExpectedCell>& cells, const std::vector<std::string>& baselineKinds,
                        const std::string& baselineName, const std::vector<std::string>& candidateKinds,
                        const std::string& candidateName, const std::string& where) {
    for (const auto& cell : cells) {
        checkSide(cell, cell.baseline, baselineKinds, "the baseline (" + baselineName + ")", where);
        checkSide(cell, cell.candidate, candidateKinds, "the candidate (" + candidateName + ")", where);
    }
}

}  // namespace fizzhost::config
