#include "support/config_text.hpp"

#include "config/config_loader.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

namespace fizzhost::test {

config::HostConfig parseConfigText(const std::string& text) {
    return config::parseConfig(text, kConfigSource, kConfigPluginDir);
}

std::string errorOf(const std::function<void()>& fn, std::optional<int> code) {
    try {
        fn();
    } catch (const Error& e) {
        if (code) CHECK(e.code() == *code);
        return e.what();
    }
    FAIL("no error was raised");
    return "";
}

std::string configErrorOf(const std::string& text) {
    INFO("config:\n" << text);
    return errorOf([&] { parseConfigText(text); }, EINVAL);
}

std::string interfaceTable(const std::string& ifname, const std::string& classifier, const std::string& extra) {
    return "[interface." + ifname + "]\nclassifier = \"" + classifier + "\"\n" + extra;
}

std::string rolloutTable(const std::string& ifname, const std::string& classifier, const std::string& rollout) {
    return interfaceTable(ifname, classifier) + "[interface." + ifname + ".rollout]\n" + rollout;
}

}  // namespace fizzhost::test
