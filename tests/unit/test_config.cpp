// TOML config: structs, defaults, paths, and errors that name file, line, column and key.
#include "config/config_loader.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using namespace fizzhost::config;
using Catch::Matchers::Contains;

namespace {

HostConfig parse(const std::string& text) { return parseConfig(text, "/etc/fizz/fizz.toml", "/usr/lib/fizzhost/plugins"); }

std::string errorOf(const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        return e.what();
    }
    FAIL("config was accepted:\n" << text);
    return {};
}

}  // namespace

TEST_CASE("a full config becomes the structs, with relative paths resolved against the file", "[unit]") {
    auto c = parse(R"(
plugin_dir = "../plugins"
queue_size = 4096
allow_insecure_plugins = true
control_socket = "run/fizz.sock"
[output]
events = "events.jsonl"
format = "text"
transport = "ringbuf"
ringbuf_size = 1048576
[guard]
max_slowdown = 1.25
mix = "worst"
[interface.eth1]
classifier = "fizzbuzz"
mode = "native"
[interface.eth1.rollout]
candidate = "fibonacci"
percent = 10
[interface.eth0]
classifier = "fizz"
)");
    CHECK(c.pluginDir == "/etc/plugins");
    CHECK(c.queueSize == 4096);
    CHECK(c.allowInsecurePlugins);
    CHECK(c.controlSocket == "/etc/fizz/run/fizz.sock");
    CHECK(c.output.events == "/etc/fizz/events.jsonl");
    CHECK(c.output.format == EventFormat::Text);
    CHECK(c.output.transport == Transport::Ringbuf);
    CHECK(c.output.ringbufSize == 1048576);
    CHECK(c.guard.maxSlowdown == Approx(1.25));
    CHECK(c.guard.mix == "worst");
    REQUIRE(c.interfaces.size() == 2);
    CHECK(c.interfaces[0].name == "eth0");
    CHECK(c.interfaces[0].mode == AttachMode::Auto);
    CHECK_FALSE(c.interfaces[0].rollout);
    const Interface* eth1 = c.findInterface("eth1");
    REQUIRE(eth1);
    CHECK(eth1->classifier == "fizzbuzz");
    CHECK(eth1->mode == AttachMode::Native);
    REQUIRE(eth1->rollout);
    CHECK(eth1->rollout->candidate == "fibonacci");
    CHECK(eth1->rollout->percent == 10);
}

TEST_CASE("defaults apply to everything but the interfaces", "[unit]") {
    auto c = parse("[interface.fzlab0]\nclassifier = \"fizz\"\n");
    CHECK(c.pluginDir == "/usr/lib/fizzhost/plugins");
    CHECK(c.queueSize == 1024);
    CHECK(c.output.events == "-");
    CHECK(c.output.format == EventFormat::Json);
    CHECK(c.output.transport == Transport::Queue);
    CHECK_FALSE(c.guard.maxSlowdown);
    CHECK_FALSE(c.allowInsecurePlugins);
}

TEST_CASE("config errors name the file, line, column and key", "[unit]") {
    CHECK_THAT(errorOf("queue_size = [1,\n"), Contains("/etc/fizz/fizz.toml:"));
    CHECK_THAT(errorOf("[interface.a]\nclassifer = \"fizz\"\n"),
               Contains("fizz.toml:2:13: interface.a.classifer: unknown key 'classifer' (did you mean 'classifier'?)"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\"\nmode = \"fast\"\n"),
               Contains("fizz.toml:3:8: interface.a.mode: expected one of \"native\", \"generic\", \"auto\", got \"fast\""));
    CHECK_THAT(errorOf("queue_size = 0\n[interface.a]\nclassifier = \"fizz\"\n"),
               Contains("fizz.toml:1:14: queue_size: 0 is out of range 1..16777216"));
    CHECK_THAT(errorOf("queue_size = \"big\"\n[interface.a]\nclassifier = \"fizz\"\n"),
               Contains("queue_size: expected an integer, got string"));
    CHECK_THAT(errorOf("[interface.a]\nmode = \"auto\"\n"), Contains("fizz.toml:1:1: interface.a: missing required key 'classifier'"));
    CHECK_THAT(errorOf("plugin_dir = \"/p\"\n"), Contains("at least one [interface.NAME] table is required"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\"\n[interface.a.rollout]\ncandidate = \"fizz\"\npercent = 5\n"),
               Contains("interface.a.rollout.candidate: the candidate must differ"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\"\n[interface.a.rollout]\ncandidate = \"fib\"\npercent = 101\n"),
               Contains("fizz.toml:5:11: interface.a.rollout.percent: 101 is out of range 0..100"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\"\n[interface.a.rollout]\npercent = 1\n"),
               Contains("interface.a.rollout: missing required key 'candidate'"));
    CHECK_THAT(errorOf("[interface.waytoolonginterfacename]\nclassifier = \"fizz\"\n"), Contains("is not an interface name"));
    CHECK_THAT(errorOf("[output]\nringbuf_size = 5000\n[interface.a]\nclassifier = \"fizz\"\n"),
               Contains("output.ringbuf_size: 5000 is not a power of two"));
    CHECK_THAT(errorOf("[guard]\nmax_slowdown = 0.5\n[interface.a]\nclassifier = \"fizz\"\n"),
               Contains("guard.max_slowdown: must be a finite number >= 1.0"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"../evil\"\n"), Contains("is not a plugin name"));
}

TEST_CASE("a missing config file is ENOENT and names the file", "[unit]") {
    try {
        loadConfig("/nonexistent/fizz.toml", "/p");
        FAIL("loaded a missing file");
    } catch (const Error& e) {
        CHECK(e.code() == ENOENT);
        CHECK_THAT(e.what(), Contains("/nonexistent/fizz.toml"));
    }
}
