// The interface keys that choose the hook and what the classifier runs beside: hook, place,
// before, after, then, on_detach. Messages are compared whole (file:line:col, key, problem).
#include "config/config_loader.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using namespace fizzhost::config;

namespace {

HostConfig parse(const std::string& text) { return test::parseConfigText(text); }
std::string errorOf(const std::string& text) { return test::configErrorOf(text); }
std::string at(int line, int col, const std::string& rest) {
    return std::string(test::kConfigSource) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + rest;
}
const Interface& only(const HostConfig& cfg) { return cfg.interfaces.at(0); }

}  // namespace

TEST_CASE("hook keys: defaults are XDP, last on tc, no chain, re-attach on detach", "[unit]") {
    const auto cfg = parse("[interface.a]\nclassifier = \"fizz\"\n");
    CHECK(only(cfg).hook == Hook::Xdp);
    CHECK(only(cfg).place == TcPlace{});
    CHECK(only(cfg).then.empty());
    CHECK(only(cfg).onDetach == OnDetach::Reattach);
}

TEST_CASE("hook keys: tc with each placement, XDP with a chain, stay_off", "[unit]") {
    auto tc = [](const std::string& extra) {
        return only(parse("[interface.a]\nclassifier = \"fizz\"\nhook = \"tc\"\n" + extra));
    };
    CHECK(tc("").hook == Hook::Tc);
    CHECK(tc("place = \"first\"").place.where == TcPlace::Where::First);
    CHECK(tc("place = \"last\"").place.where == TcPlace::Where::Last);
    const auto before = tc("before = \"cil_from_netdev\"").place;
    CHECK(before.where == TcPlace::Where::Before);
    CHECK(before.program == "cil_from_netdev");
    CHECK(describe(before) == "before program 'cil_from_netdev'");
    const auto after = tc("after = \"/sys/fs/bpf/fw/ingress\"").place;
    CHECK(after.where == TcPlace::Where::After);
    CHECK(after.pinned == "/sys/fs/bpf/fw/ingress");
    CHECK(after.program.empty());
    CHECK(describe(after) == "after the program pinned at '/sys/fs/bpf/fw/ingress'");
    CHECK(tc("on_detach = \"stay_off\"").onDetach == OnDetach::StayOff);

    const auto chained = only(parse("[interface.a]\nclassifier = \"fizz\"\nthen = \"/sys/fs/bpf/lb/xdp\"\n"));
    CHECK(chained.hook == Hook::Xdp);
    CHECK(chained.then == "/sys/fs/bpf/lb/xdp");
}

TEST_CASE("hook keys: misplaced or malformed values are refused with file:line:col", "[unit]") {
    const std::string head = "[interface.a]\nclassifier = \"fizz\"\n";
    CHECK(errorOf(head + "hook = \"tcx\"\n") ==
          at(3, 8, "interface.a.hook: expected one of \"xdp\", \"tc\", got \"tcx\" (did you mean \"tc\"?)"));
    CHECK(errorOf(head + "place = \"first\"\n") ==
          at(3, 9, "interface.a.place: places the classifier among the programs at tc ingress; it applies with "
                   "hook = \"tc\" only (on XDP the hook holds one program: chain one behind the classifier with "
                   "then = \"<pin>\")"));
    CHECK(errorOf(head + "hook = \"tc\"\nplace = \"middle\"\n") ==
          at(4, 9, "interface.a.place: expected one of \"first\", \"last\", got \"middle\""));
    CHECK(errorOf(head + "hook = \"tc\"\nplace = \"first\"\nafter = \"x\"\n") ==
          at(5, 9, "interface.a.after: give one of place, before and after, not several"));
    CHECK(errorOf(head + "hook = \"tc\"\nbefore = \"a/b\"\n") ==
          at(4, 10, "interface.a.before: \"a/b\" is neither a program name nor an absolute pinned path"));
    CHECK(errorOf(head + "hook = \"tc\"\nbefore = \"\"\n") ==
          at(4, 10, "interface.a.before: must name a program on the hook, or the absolute path it is pinned at"));
    CHECK(errorOf(head + "hook = \"tc\"\nmode = \"native\"\n") ==
          at(4, 8, "interface.a.mode: is the XDP attach mode; a classifier with hook = \"tc\" is attached through "
                   "tcx, remove mode"));
    CHECK(errorOf(head + "hook = \"tc\"\nthen = \"/sys/fs/bpf/x\"\n") ==
          at(4, 8, "interface.a.then: chains an XDP program behind the classifier on XDP; at tc ingress the "
                   "programs on the hook run in order anyway: place the classifier with place/before/after "
                   "instead"));
    CHECK(errorOf(head + "then = \"lb/xdp\"\n") ==
          at(3, 8, "interface.a.then: must be the absolute path an XDP program is pinned at (on bpffs), got "
                   "\"lb/xdp\""));
    CHECK(errorOf(head + "on_detach = \"ignore\"\n") ==
          at(3, 13, "interface.a.on_detach: expected one of \"reattach\", \"stay_off\", got \"ignore\""));
    CHECK(errorOf(head + "hok = \"tc\"\n") == at(3, 1, "interface.a.hok: unknown key 'hok' (did you mean 'hook'?)"));
}
