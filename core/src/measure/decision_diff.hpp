// What two programs decide on the same frames, frame by frame: the confusion table `fizzhost diff`
// prints, in the terms shadow mode's table uses (kind names, "none" for no message), with the
// cells a release means to change (config/expected_cells.hpp) told apart from the others. The
// tally is plain logic (unit-tested without a kernel); decideFrames() runs the real programs.
#pragma once

#include "config/expected_cells.hpp"
#include "measure/frame_classifier.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fizzhost::measure {

/// The decision of a frame whose message the decoder refused: it matches nothing but itself.
inline constexpr std::string_view kUndecodable = "undecodable";

/// A frame to compare on: its number (1-based, in input order), its bytes, and the IPv4 source
/// the SDK's parser finds in it (frameIpv4Source), for examples.
struct DiffFrame {
    size_t number = 0;
    std::vector<uint8_t> bytes;
    std::optional<uint32_t> src;
};

struct CellExample {
    size_t frame = 0;
    std::optional<uint32_t> src;
};

struct DiffCell {
    std::string a, b;  // the two decisions: kind names, "none" or "undecodable"
    uint64_t frames = 0;
    bool agree = false;
    bool expected = false;  // a disagreeing cell listed as expected
    std::vector<CellExample> examples;  // the first frames of a disagreeing cell
};

struct DecisionTable {
    uint64_t compared = 0;    // frames both programs ran on
    uint64_t expected = 0;    // of them, frames in an expected cell
    uint64_t unexpected = 0;  // frames that differ in a cell not listed
    uint64_t notRun = 0;      // frames shorter than an Ethernet header: no program runs on them
    uint64_t severalMessages = 0;  // frames a program emitted more than one message for (the last decides)
    /// Cells seen: unexpected first, then expected, then agreeing; most frames first within each.
    std::vector<DiffCell> cells;
    /// Listed cells no frame fell into (a rule that never fired on this input).
    std::vector<config::ExpectedCell> unseen;
    uint64_t disagreed() const { return expected + unexpected; }
};

/// Builds a DecisionTable frame by frame. Not thread-safe.
class DecisionTally {
public:
    DecisionTally(config::ExpectedCells expected, size_t examplesPerCell)
        : expected_(std::move(expected)), examplesPerCell_(examplesPerCell) {}
    /// Frame `frame` (source `src`) was decided `a` by the first program and `b` by the second.
    void add(size_t frame, std::optional<uint32_t> src, const std::string& a, const std::string& b);
    void addNotRun() { ++notRun_; }
    void addSeveralMessages() { ++several_; }
    DecisionTable table() const;

private:
    config::ExpectedCells expected_;
    size_t examplesPerCell_;
    std::map<std::pair<std::string, std::string>, DiffCell> cells_;
    uint64_t notRun_ = 0, several_ = 0;
};

/// Runs `a` and `b` on every frame and tallies their decisions: the kind of the last message a
/// program emitted for the frame (as shadow mode records it), "none" when it emitted nothing,
/// "undecodable" when its decoder refused the message. Frames shorter than an Ethernet header
/// are counted as not run. Throws Error when a test run fails.
DecisionTable decideFrames(FrameClassifier& a, FrameClassifier& b, const std::vector<DiffFrame>& frames,
                           const config::ExpectedCells& expected, size_t examplesPerCell);

}  // namespace fizzhost::measure
