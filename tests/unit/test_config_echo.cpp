// Every key and value the config loader echoes in an error is cut at kPrintableMax bytes (with the
// full length said), wherever the key sits: a 1 MB key makes a short error, not a 1 MB one.
#include "config/config_loader.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace fizzhost;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

constexpr size_t kHuge = 1 << 20;
const std::string kIface = "[interface.eth0]\nclassifier = \"fizz\"\n";

std::string errorOf(const std::string& text) {
    try {
        config::parseConfig(text, "f.toml", "/p");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a 1 MB key is cut in every error that echoes it, and the error says how long it was", "[unit]") {
    const std::string key(kHuge, 'k');
    const std::string length = "(" + std::to_string(kHuge) + " bytes)";
    struct Case {
        const char* where;
        std::string text;
        const char* says;
        std::string length;  // how the error says the key's length; the TOML parser cuts its own echo
    };
    const std::string hidden = "(" + std::to_string(kHuge + 3) + " bytes)";  // U+200B is 3 bytes
    const std::string cut = "... (cut)";
    const std::vector<Case> cases = {
        {"an unknown key at the root", key + " = 1\n" + kIface, "unknown key", length},
        {"an unknown key in [output]", kIface + "[output]\n" + key + " = 1\n", "unknown key", length},
        {"an unknown table key", kIface + "[metrics." + key + "]\nx = 1\n", "unknown key", length},
        {"an interface name", "[interface." + key + "]\nclassifier = \"fizz\"\n", "interface name", length},
        {"an unknown key in a rollout", kIface + "[interface.eth0.rollout]\ncandidate = \"fizzbuzz\"\npercent = 1\n" + key + " = 1\n",
         "unknown key", length},
        {"a quoted key with hidden characters", "\"" + key + "\\u200b\" = 1\n" + kIface, "unknown key", hidden},
        {"a key defined twice (the TOML parser's own error)", kIface + "[output]\n" + key + " = 1\n" + key + " = 2\n",
         "cannot redefine", cut},
        {"a table defined twice (the TOML parser's own error)", kIface + "[" + key + "]\n[" + key + "]\n", "cannot redefine", cut},
    };
    for (const auto& c : cases) {
        INFO(c.where);
        const std::string err = errorOf(c.text);
        INFO(err.substr(0, 2048));
        CHECK_THAT(err, StartsWith("f.toml:") && Contains(c.says) && Contains(c.length));
        // The key at most twice (its path and the message), each cut at kPrintableMax bytes.
        CHECK(err.size() < 4 * kPrintableMax);
    }
}

TEST_CASE("a key near a known one is still suggested, and a long one costs no suggestion", "[unit]") {
    CHECK_THAT(errorOf(kIface + "[output]\nevnts = \"-\"\n"), Contains("(did you mean 'events'?)"));
    const std::string err = errorOf(kIface + "[output]\nevents" + std::string(300, 's') + " = 1\n");
    CHECK_THAT(err, Contains("unknown key") && !Contains("did you mean") && Contains("(306 bytes)"));
}
