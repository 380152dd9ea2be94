// TOML config: structs, defaults, paths, and errors that name file, line, column and key. Error
// messages are compared whole: they are the interface a user sees, so a changed position or key
// path should fail here.
#include "config/config_loader.hpp"
#include "util/error.hpp"
#include "util/file_trust.hpp"
#include "util/unique_fd.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <future>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::config;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

constexpr const char* kSource = test::kConfigSource;
constexpr const char* kDefaultPlugins = test::kConfigPluginDir;
// Appended to configs that test something else, since every config needs an interface.
constexpr const char* kOneInterface = "[interface.a]\nclassifier = \"fizz\"\n";

HostConfig parse(const std::string& text) { return test::parseConfigText(text); }
std::string errorOf(const std::string& text) { return test::configErrorOf(text); }

// A private directory under /tmp, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "fizz-config-XXXXXX").string();
        if (!mkdtemp(pattern.data())) FAIL("mkdtemp: " << errnoText(errno));
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace

TEST_CASE("a full config becomes the structs, interfaces in file order", "[unit]") {
    auto c = parse(R"(
plugin_dir = "/opt/fizz/plugins"
queue_size = 4096
allow_insecure_plugins = true
control_socket = "/run/fizz.sock"
[output]
events = "/var/log/fizz.jsonl"
format = "text"
transport = "queue"
ring_slots = 65536
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
mode = "generic"
[interface."eth0.100"]
classifier = "fizz_v2-b"
)");
    CHECK(c.source == kSource);
    CHECK(c.pluginDir == "/opt/fizz/plugins");
    CHECK(c.queueSize == 4096);
    CHECK(c.allowInsecurePlugins);
    CHECK(c.controlSocket == "/run/fizz.sock");
    CHECK(c.output.events == "/var/log/fizz.jsonl");
    CHECK(c.output.format == EventFormat::Text);
    CHECK(c.output.transport == FIZZ_TRANSPORT_QUEUE);
    CHECK(c.output.ringSlots == 65536);
    REQUIRE(c.guard.maxSlowdown);
    CHECK(*c.guard.maxSlowdown == Approx(1.25));
    CHECK(c.guard.mix == "worst");

    REQUIRE(c.interfaces.size() == 3);
    CHECK(c.interfaces[0].name == "eth1");  // file order, not the table's key order
    CHECK(c.interfaces[1].name == "eth0");
    CHECK(c.interfaces[2].name == "eth0.100");
    const Interface* eth1 = c.findInterface("eth1");
    REQUIRE(eth1 == &c.interfaces[0]);
    CHECK(eth1->classifier == "fizzbuzz");
    CHECK(eth1->mode == AttachMode::Native);
    REQUIRE(eth1->rollout);
    CHECK(eth1->rollout->candidate == "fibonacci");
    CHECK(eth1->rollout->percent == 10);
    CHECK(c.interfaces[1].classifier == "fizz");
    CHECK(c.interfaces[1].mode == AttachMode::Generic);
    CHECK_FALSE(c.interfaces[1].rollout);
    CHECK(c.interfaces[2].classifier == "fizz_v2-b");
    CHECK(c.findInterface("eth2") == nullptr);
}

TEST_CASE("file order holds for implicit, dotted and inline interface tables", "[unit]") {
    auto c = parse(R"(
[interface.zz.rollout]
candidate = "fib"
percent = 0
[interface]
mm.classifier = "fizz"
aa = { classifier = "buzz", mode = "auto" }
[interface.zz]
classifier = "fizz"
)");
    REQUIRE(c.interfaces.size() == 3);
    CHECK(c.interfaces[0].name == "zz");
    CHECK(c.interfaces[0].rollout->percent == 0);
    CHECK(c.interfaces[1].name == "mm");
    CHECK(c.interfaces[2].name == "aa");
    CHECK(c.interfaces[2].classifier == "buzz");
}

TEST_CASE("defaults apply to everything but the interfaces", "[unit]") {
    auto c = parse("[interface.fzlab0]\nclassifier = \"fizz\"\n");
    CHECK(c.pluginDir == kDefaultPlugins);
    CHECK(c.queueSize == 1024);
    CHECK_FALSE(c.allowInsecurePlugins);
    CHECK(c.controlSocket == "/run/fizzhost/fizzhost.sock");
    CHECK(c.output.events == "-");
    CHECK(c.output.format == EventFormat::Json);
    CHECK(c.output.transport == FIZZ_TRANSPORT_RING);
    CHECK(c.output.ringSlots == 0);  // the host's default
    CHECK_FALSE(c.guard.maxSlowdown);
    CHECK(c.guard.mix == "uniform");
    REQUIRE(c.interfaces.size() == 1);
    CHECK(c.interfaces[0].mode == AttachMode::Auto);
    CHECK_FALSE(c.interfaces[0].rollout);
}

TEST_CASE("edge values inside the ranges are accepted", "[unit]") {
    auto c = parse(std::string("queue_size = 16777216\n[output]\nring_slots = 1\n[guard]\nmax_slowdown = 2\n"
                               "[interface.abcdefghijklmno]\nclassifier = \"") +
                   std::string(63, 'p') + "\"\n[interface.abcdefghijklmno.rollout]\ncandidate = \"q\"\npercent = 100\n");
    CHECK(c.queueSize == 16777216);
    CHECK(c.output.ringSlots == 1);
    CHECK(*c.guard.maxSlowdown == 2.0);  // an integer is a fine ratio
    CHECK(c.interfaces[0].name == "abcdefghijklmno");
    CHECK(c.interfaces[0].rollout->percent == 100);
    CHECK(parse("[output]\nring_slots = 524256\n" + std::string(kOneInterface)).output.ringSlots == 524256);
    CHECK(parse(std::string(kOneInterface)).output.spareRegions == config::SpareRegions::Auto);
    CHECK(parse("[output]\nspare_regions = false\n" + std::string(kOneInterface)).output.spareRegions ==
          config::SpareRegions::Off);
    CHECK(parse("[output]\nspare_regions = true\n" + std::string(kOneInterface)).output.spareRegions ==
          config::SpareRegions::On);
    CHECK(parse("[output]\nspare_regions = \"auto\"\n" + std::string(kOneInterface)).output.spareRegions ==
          config::SpareRegions::Auto);
    CHECK(errorOf("[output]\nspare_regions = 0\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:17: output.spare_regions: expected true, false or \"auto\", got an integer");
    CHECK(errorOf("[output]\nspare_regions = \"sometimes\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:17: output.spare_regions: expected true, false or \"auto\", got \"sometimes\"");
    CHECK(parse("[guard]\nmax_slowdown = 1.0\n" + std::string(kOneInterface)).guard.maxSlowdown == 1.0);
    // The kernel's run-time statistics cost every BPF program on the machine: off unless asked.
    CHECK_FALSE(parse(std::string(kOneInterface)).runTimeStats);
    CHECK(parse("run_time_stats = true\n" + std::string(kOneInterface)).runTimeStats);
    CHECK(errorOf("run_time_stats = 1\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:18: run_time_stats: expected a boolean, got an integer");
}

TEST_CASE("[output] rate, stall_ms and spread_cpus size the ring; ring_slots wins; bad values say why", "[unit]") {
    const std::string ifc(kOneInterface);
    const config::Output d = parse(ifc).output;
    CHECK(d.ringSlots == 0);
    CHECK(d.ringRate == config::RingRate{14.88e6, 20, 8});
    const config::Output o = parse("[output]\nrate = 1_000_000\nstall_ms = 50\nspread_cpus = 4\n" + ifc).output;
    CHECK(o.ringRate == config::RingRate{1e6, 50, 4});
    CHECK(o.ringRate.slotsPerCpu(64) == 12500);
    CHECK(parse("[output]\nrate = 2.5e7\n" + ifc).output.ringRate.perSecond == 2.5e7);  // a float is fine
    // Both given: the explicit slots are used (the rate is ignored with a warning).
    const config::Output both = parse("[output]\nring_slots = 4096\nrate = 1e9\n" + ifc).output;
    CHECK(both.ringSlots == 4096);
    CHECK(errorOf("[output]\nrate = 0\n" + ifc) ==
          "/etc/fizz/fizz.toml:2:8: output.rate: expected messages per second from 1 to 1e+10 (e.g. 14.88e6, 10 GbE "
          "line rate of 64-byte frames), got 0");
    CHECK(errorOf("[output]\nrate = nan\n" + ifc).find("output.rate: expected messages per second") !=
          std::string::npos);
    CHECK(errorOf("[output]\nrate = \"10G\"\n" + ifc) ==
          "/etc/fizz/fizz.toml:2:8: output.rate: expected a float or an integer, got a string");
    CHECK(errorOf("[output]\nstall_ms = 0\n" + ifc) ==
          "/etc/fizz/fizz.toml:2:12: output.stall_ms: 0 is out of range 1..60000");
    CHECK(errorOf("[output]\nspread_cpus = 0\n" + ifc) ==
          "/etc/fizz/fizz.toml:2:15: output.spread_cpus: 0 is out of range 1..65536");
    // More slots than one region holds, even spread as configured: refused, naming the product.
    CHECK(errorOf("[output]\nrate = 1e9\nstall_ms = 100\n" + ifc) ==
          "/etc/fizz/fizz.toml:2:8: output.rate: rate x stall_ms / spread_cpus = 1e+09 x 100 ms / 8 = 12500000 "
          "message slots per CPU, more than one CPU's region holds (524256 slots, 4 MiB); lower rate or stall_ms, "
          "or raise spread_cpus");
}

TEST_CASE("relative paths resolve against the config file's directory", "[unit]") {
    auto c = parse(R"(
plugin_dir = "../build/./plugins"
control_socket = "run/fizz.sock"
[output]
events = "logs/events.jsonl"
[interface.a]
classifier = "fizz"
)");
    CHECK(c.pluginDir == "/etc/build/plugins");
    CHECK(c.controlSocket == "/etc/fizz/run/fizz.sock");
    CHECK(c.output.events == "/etc/fizz/logs/events.jsonl");

    SECTION("a relative source name is anchored at the working directory") {
        auto r = parseConfig("plugin_dir = \"p\"\n" + std::string(kOneInterface), "conf/fizz.toml", kDefaultPlugins);
        CHECK(r.pluginDir == std::filesystem::current_path() / "conf/p");
        CHECK(r.pluginDir.is_absolute());
    }
    SECTION("\"-\" means stdout and is not a path") {
        CHECK(parse("[output]\nevents = \"-\"\n" + std::string(kOneInterface)).output.events == "-");
    }
}

TEST_CASE("loadConfig reads a file and anchors paths at its directory", "[unit]") {
    TempDir dir;
    const auto file = dir.path() / "fizz.toml";
    std::ofstream(file) << "plugin_dir = \"plugins\"\n[interface.lo]\nclassifier = \"fizz\"\n";
    auto c = loadConfig(file, kDefaultPlugins);
    CHECK(c.source == file);
    CHECK(c.pluginDir == dir.path() / "plugins");
    CHECK(c.interfaces.at(0).name == "lo");

    std::ofstream(file) << "[interface.lo]\nclassifier = \"fizz\"\nmode = \"turbo\"\n";
    try {
        loadConfig(file, kDefaultPlugins);
        FAIL("accepted mode = \"turbo\"");
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        CHECK_THAT(e.what(), StartsWith(file.string() + ":3:8: interface.lo.mode: "));
    }
}

TEST_CASE("a file that can't be read is an errno error naming the file", "[unit]") {
    try {
        loadConfig("/nonexistent/fizz.toml", kDefaultPlugins);
        FAIL("loaded a missing file");
    } catch (const Error& e) {
        CHECK(e.code() == ENOENT);
        CHECK(std::string(e.what()) == "/nonexistent/fizz.toml: cannot read config: No such file or directory (ENOENT)");
    }
    TempDir dir;
    try {
        loadConfig(dir.path(), kDefaultPlugins);
        FAIL("loaded a directory");
    } catch (const Error& e) {
        CHECK(e.code() == EISDIR);
        CHECK_THAT(e.what(), StartsWith(dir.path().string() + ": cannot read config: "));
    }
}

TEST_CASE("a FIFO or device as config is refused at once, never read", "[unit]") {
    TempDir dir;
    const auto fifo = dir.path() / "fizz.toml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // In a thread of its own: a loader that blocks on the FIFO must fail this test, not hang it.
    std::promise<std::string> outcome;
    auto result = outcome.get_future();
    std::thread loader([&] {
        try {
            loadConfig(fifo, kDefaultPlugins);
            outcome.set_value("accepted");
        } catch (const Error& e) {
            outcome.set_value(std::to_string(e.code()) + " " + e.what());
        }
    });
    if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));  // lets the blocked open return
        loader.join();
        FAIL("loadConfig blocked on a FIFO");
    }
    loader.join();
    CHECK(result.get() == std::to_string(EINVAL) + " " + fifo.string() +
                              ": cannot read config: it is a FIFO, not a regular file");
    try {
        loadConfig("/dev/null", kDefaultPlugins);
        FAIL("loaded /dev/null");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "/dev/null: cannot read config: it is a device, not a regular file");
    }
}

TEST_CASE("a config writable by group or others is refused unless insecure mode is asked for", "[unit]") {
    TempDir dir;
    const auto file = dir.path() / "fizz.toml";
    std::ofstream(file) << kOneInterface;
    REQUIRE(::chmod(file.c_str(), 0644) == 0);
    CHECK(loadConfig(file, kDefaultPlugins).interfaces.size() == 1);
    for (const auto& [mode, who] : {std::pair{0664, "group (mode 0664)"}, std::pair{0646, "others (mode 0646)"},
                                    std::pair{0666, "others (mode 0666)"}}) {
        REQUIRE(::chmod(file.c_str(), mode_t(mode)) == 0);
        try {
            loadConfig(file, kDefaultPlugins);
            FAIL("loaded a config with mode " << std::oct << mode);
        } catch (const Error& e) {
            CHECK(e.code() == EPERM);
            CHECK(std::string(e.what()) == "config file '" + file.string() + "' is writable by " + who + "; " +
                                               trustRule() +
                                               ". Refusing it (--allow-insecure-plugins on the command line relaxes "
                                               "this, for development only)");
        }
        CHECK(loadConfig(file, kDefaultPlugins, FileTrust::Insecure).interfaces.size() == 1);
    }
}

TEST_CASE("values in messages are bounded and show hidden characters", "[unit]") {
    const std::string huge(2 * 1024 * 1024, 'x');
    const std::string err = errorOf("[interface.a]\nclassifier = \"fizz\"\nmode = \"" + huge + "\"\n");
    CHECK(err.size() < 1024);
    CHECK_THAT(err, StartsWith("/etc/fizz/fizz.toml:3:8: interface.a.mode: expected one of") &&
                        Contains("got \"" + std::string(256, 'x') + "... (2097152 bytes)\""));
    // An interface whose name would read as another one's is refused, and shown escaped.
    CHECK(errorOf("[interface.\"rz0\u200b\"]\nclassifier = \"fizz\"\n") ==
          "/etc/fizz/fizz.toml:1:12: interface.\"rz0\\u200b\": interface name \"rz0\\u200b\" contains an invisible, "
          "control or bidirectional character (or invalid UTF-8)");
    CHECK_THAT(errorOf("[interface.\"a\u202eb\"]\nclassifier = \"fizz\"\n"), Contains("\"a\\u202eb\" contains an invisible"));
    // A newline in a path would split every log line that names it.
    CHECK(errorOf("plugin_dir = \"/opt/x\\ny\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: plugin_dir: \"/opt/x\\ny\": a path must not contain control, bidirectional or "
          "zero-width characters");
}

TEST_CASE("toml syntax errors carry file, line and column", "[unit]") {
    // toml++ words the problem; what this project owns is the "<file>:<line>:<col>: " in front of it.
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\nmode = \"auto\"\n"),
               StartsWith("/etc/fizz/fizz.toml:2:19: Error while parsing string"));
    CHECK_THAT(errorOf("queue_size = 1\nqueue_size = 2\n"),
               StartsWith("/etc/fizz/fizz.toml:2:") && Contains("redefine existing integer 'queue_size'"));
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"fizz\"\n[interface.a]\n"), StartsWith("/etc/fizz/fizz.toml:3:"));
    CHECK_THAT(errorOf("queue_size = [1,\n"), StartsWith("/etc/fizz/fizz.toml:1:"));
}

TEST_CASE("unknown keys are errors that point at the key and suggest a near one", "[unit]") {
    CHECK(errorOf("[interface.a]\nclassifer = \"fizz\"\n") ==
          "/etc/fizz/fizz.toml:2:1: interface.a.classifer: unknown key 'classifer' (did you mean 'classifier'?)");
    CHECK(errorOf("queue_sise = 5\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:1: queue_sise: unknown key 'queue_sise' (did you mean 'queue_size'?)");
    CHECK(errorOf("[interfaces.a]\nclassifier = \"fizz\"\n") ==
          "/etc/fizz/fizz.toml:1:2: interfaces: unknown key 'interfaces' (did you mean 'interface'?)");
    CHECK(errorOf("[output]\n  colour = \"red\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:3: output.colour: unknown key 'colour'");
    CHECK(errorOf("[guard]\nmax_slowdwn = 2\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:1: guard.max_slowdwn: unknown key 'max_slowdwn' (did you mean 'max_slowdown'?)");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"b\"\npercent = 1\npercnt = 2\n") ==
          "/etc/fizz/fizz.toml:6:1: interface.a.rollout.percnt: unknown key 'percnt' (did you mean 'percent'?)");
    CHECK(errorOf(std::string(kOneInterface) + "\"two words\" = 1\n") ==
          "/etc/fizz/fizz.toml:3:1: interface.a.\"two words\": unknown key \"two words\"");
}

TEST_CASE("enum values outside their set name the choices", "[unit]") {
    CHECK(errorOf("[interface.a]\nclassifier = \"fizz\"\nmode = \"fast\"\n") ==
          "/etc/fizz/fizz.toml:3:8: interface.a.mode: expected one of \"native\", \"generic\", \"auto\", got \"fast\"");
    CHECK(errorOf("[interface.a]\nclassifier = \"fizz\"\nmode = \"nativ\"\n") ==
          "/etc/fizz/fizz.toml:3:8: interface.a.mode: expected one of \"native\", \"generic\", \"auto\", got \"nativ\" "
          "(did you mean \"native\"?)");
    CHECK(errorOf("[output]\nformat = \"yaml\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:10: output.format: expected one of \"json\", \"text\", got \"yaml\"");
    CHECK(errorOf("[output]\ntransport = \"rings\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:13: output.transport: expected one of \"ring\", \"queue\", got \"rings\" (did you mean \"ring\"?)");
    CHECK(errorOf("[guard]\nmix = \"worse\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:7: guard.mix: expected one of \"uniform\", \"worst\", got \"worse\" (did you mean \"worst\"?)");
}

TEST_CASE("numbers outside their ranges say the range", "[unit]") {
    CHECK(errorOf("queue_size = 0\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: queue_size: 0 is out of range 1..16777216");
    CHECK(errorOf("queue_size = 16777217\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: queue_size: 16777217 is out of range 1..16777216");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fib\"\npercent = 101\n") ==
          "/etc/fizz/fizz.toml:5:11: interface.a.rollout.percent: 101 is out of range 0..100");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fib\"\npercent = -1\n") ==
          "/etc/fizz/fizz.toml:5:11: interface.a.rollout.percent: -1 is out of range 0..100");
    CHECK(errorOf("[output]\nring_slots = 0\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:14: output.ring_slots: 0 is out of range 1..524256");
    CHECK(errorOf("[output]\nring_slots = 524257\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:14: output.ring_slots: 524257 is out of range 1..524256");
    CHECK(errorOf("[guard]\nmax_slowdown = 0.5\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:16: guard.max_slowdown: must be a finite number >= 1.0, got 0.5");
    CHECK_THAT(errorOf("[guard]\nmax_slowdown = nan\n" + std::string(kOneInterface)),
               StartsWith("/etc/fizz/fizz.toml:2:16: guard.max_slowdown: must be a finite number >= 1.0"));
    CHECK_THAT(errorOf("[guard]\nmax_slowdown = inf\n" + std::string(kOneInterface)),
               StartsWith("/etc/fizz/fizz.toml:2:16: guard.max_slowdown: must be a finite number >= 1.0"));
}

TEST_CASE("wrong types name the expected and the actual type", "[unit]") {
    CHECK(errorOf("queue_size = \"big\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: queue_size: expected an integer, got a string");
    CHECK(errorOf("queue_size = 10.0\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: queue_size: expected an integer, got a float");
    CHECK(errorOf("allow_insecure_plugins = \"yes\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:26: allow_insecure_plugins: expected a boolean, got a string");
    CHECK(errorOf("plugin_dir = [\"/a\"]\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: plugin_dir: expected a string, got an array");
    CHECK(errorOf("output = 1\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:10: output: expected a table, got an integer");
    CHECK(errorOf("[guard]\nmax_slowdown = \"1.5\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:16: guard.max_slowdown: expected a float or an integer, got a string");
    CHECK(errorOf("[interface]\neth0 = \"fizz\"\n") ==
          "/etc/fizz/fizz.toml:2:8: interface.eth0: expected a table, got a string");
    CHECK(errorOf("[[interface]]\nclassifier = \"fizz\"\n") ==
          "/etc/fizz/fizz.toml:1:1: interface: expected a table, got an array");
    CHECK(errorOf("[interface.a]\nclassifier = 7\n") ==
          "/etc/fizz/fizz.toml:2:14: interface.a.classifier: expected a string, got an integer");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fib\"\npercent = 10.5\n") ==
          "/etc/fizz/fizz.toml:5:11: interface.a.rollout.percent: expected an integer, got a float");
    CHECK(errorOf(std::string(kOneInterface) + "rollout = \"fib\"\n") ==
          "/etc/fizz/fizz.toml:3:11: interface.a.rollout: expected a table, got a string");
}

TEST_CASE("missing required keys point at the enclosing table", "[unit]") {
    CHECK(errorOf("queue_size = 8\n\n[interface.a]\nmode = \"auto\"\n") ==
          "/etc/fizz/fizz.toml:3:1: interface.a: missing required key 'classifier'");
    CHECK(errorOf("[interface]\nb = { mode = \"auto\" }\n") ==
          "/etc/fizz/fizz.toml:2:5: interface.b: missing required key 'classifier'");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\npercent = 1\n") ==
          "/etc/fizz/fizz.toml:3:1: interface.a.rollout: missing required key 'candidate'");
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fib\"\n") ==
          "/etc/fizz/fizz.toml:3:1: interface.a.rollout: missing required key 'percent'");
}

TEST_CASE("a config without interfaces is refused", "[unit]") {
    CHECK(errorOf("plugin_dir = \"/p\"\n") ==
          "/etc/fizz/fizz.toml:1:1: interface: missing required table; add at least one [interface.NAME] with a classifier");
    CHECK(errorOf("") ==
          "/etc/fizz/fizz.toml:1:1: interface: missing required table; add at least one [interface.NAME] with a classifier");
    CHECK(errorOf("queue_size = 8\n[interface]\n") ==
          "/etc/fizz/fizz.toml:2:1: interface: no interfaces; add at least one [interface.NAME] with a classifier");
}

TEST_CASE("classifier and candidate name a plugin or one version of it", "[unit]") {
    auto ok = parse(std::string("[interface.a]\nclassifier = \"primes@1.0.0\"\n") +
                         "[interface.a.rollout]\ncandidate = \"primes@1.1.0-rc.1\"\npercent = 10\n");
    CHECK(ok.interfaces.at(0).classifier == "primes@1.0.0");
    CHECK(ok.interfaces.at(0).rollout->candidate == "primes@1.1.0-rc.1");
    CHECK(errorOf("[interface.a]\nclassifier = \"primes@1.0\"\n") ==
          "/etc/fizz/fizz.toml:2:14: interface.a.classifier: \"1.0\" is not a semver version; write NAME or "
          "NAME@MAJOR.MINOR.PATCH");
    CHECK(errorOf("[interface.a]\nclassifier = \"@1.0.0\"\n") ==
          "/etc/fizz/fizz.toml:2:14: interface.a.classifier: a plugin name must not be empty");
}

TEST_CASE("a rollout must name a different plugin than the classifier", "[unit]") {
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fizz\"\npercent = 5\n") ==
          "/etc/fizz/fizz.toml:4:13: interface.a.rollout.candidate: must differ from classifier \"fizz\" "
          "(promote by changing classifier instead)");
}

TEST_CASE("interface names follow the kernel's rules", "[unit]") {
    auto named = [](const std::string& key) { return errorOf("[interface." + key + "]\nclassifier = \"fizz\"\n"); };
    CHECK(named("waytoolonginterfacename") ==
          "/etc/fizz/fizz.toml:1:12: interface.waytoolonginterfacename: interface name \"waytoolonginterfacename\" is "
          "23 bytes; the kernel allows at most 15 (IFNAMSIZ - 1)");
    CHECK(named("\"eth/0\"") ==
          "/etc/fizz/fizz.toml:1:12: interface.\"eth/0\": interface name \"eth/0\" contains '/', which the kernel forbids");
    CHECK(named("\"eth:0\"") ==
          "/etc/fizz/fizz.toml:1:12: interface.\"eth:0\": interface name \"eth:0\" contains ':', which the kernel forbids");
    CHECK(named("\"eth 0\"") ==
          "/etc/fizz/fizz.toml:1:12: interface.\"eth 0\": interface name \"eth 0\" contains whitespace, which the kernel "
          "forbids");
    CHECK(named("\"..\"") == "/etc/fizz/fizz.toml:1:12: interface.\"..\": interface name \"..\" is reserved by the kernel");
    CHECK(named("\"\"") == "/etc/fizz/fizz.toml:1:12: interface.\"\": an interface name must not be empty");
    CHECK(named("\"a\\u0000b\"") ==
          "/etc/fizz/fizz.toml:1:12: interface.\"a\\u0000b\": interface name \"a\\u0000b\" contains a NUL byte");
}

TEST_CASE("plugin names and paths are checked", "[unit]") {
    CHECK(errorOf("[interface.a]\nclassifier = \"../evil\"\n") ==
          "/etc/fizz/fizz.toml:2:14: interface.a.classifier: \"../evil\" is not a plugin name (letters, digits, '_' and '-' "
          "only)");
    CHECK(errorOf("[interface.a]\nclassifier = \"\"\n") ==
          "/etc/fizz/fizz.toml:2:14: interface.a.classifier: a plugin name must not be empty");
    CHECK_THAT(errorOf("[interface.a]\nclassifier = \"" + std::string(64, 'p') + "\"\n"),
               Contains("interface.a.classifier: \"ppp") && Contains("is 64 characters; a plugin name has at most 63"));
    CHECK(errorOf(std::string(kOneInterface) + "[interface.a.rollout]\ncandidate = \"fib.so\"\npercent = 5\n") ==
          "/etc/fizz/fizz.toml:4:13: interface.a.rollout.candidate: \"fib.so\" is not a plugin name (letters, digits, '_' "
          "and '-' only)");
    CHECK(errorOf("plugin_dir = \"\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:1:14: plugin_dir: a path must not be empty");
    CHECK(errorOf("[output]\nevents = \"a\\u0000b\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:10: output.events: a path must not contain a NUL byte");
    CHECK_THAT(errorOf("control_socket = \"/run/" + std::string(110, 's') + "\"\n" + std::string(kOneInterface)),
               StartsWith("/etc/fizz/fizz.toml:1:18: control_socket: \"/run/sss") &&
                   Contains("is 115 bytes; a unix socket path holds at most 107"));
}

TEST_CASE("the old transport name and ring size key still load", "[unit]") {
    // "ringbuf" was the BPF ring buffer transport; "ring" replaced it. Old configs keep working
    // (with a warning in the log), and the old byte size is ignored, never misread as slots.
    auto c = parse("[output]\ntransport = \"ringbuf\"\nringbuf_size = 1048576\n" + std::string(kOneInterface));
    CHECK(c.output.transport == FIZZ_TRANSPORT_RING);
    CHECK(c.output.ringSlots == 0);
    CHECK(errorOf("[output]\nringbuf_size = \"big\"\n" + std::string(kOneInterface)) ==
          "/etc/fizz/fizz.toml:2:16: output.ringbuf_size: expected an integer, got a string");
}

TEST_CASE("a transport's name reads back as that transport, and nothing else reads as one", "[unit]") {
    for (fizz_transport t : kTransports) CHECK(parseTransport(toString(t)) == t);
    CHECK(parseTransport("ring") == FIZZ_TRANSPORT_RING);
    CHECK(parseTransport("queue") == FIZZ_TRANSPORT_QUEUE);
    CHECK_FALSE(parseTransport(kOldRingName));  // the caller decides what the old name means
    CHECK_FALSE(parseTransport("pipe"));
    CHECK_FALSE(parseTransport(""));
    CHECK_THAT(errorOf("[output]\ntransport = \"rign\"\n" + std::string(kOneInterface)),
               Contains("expected one of \"ring\", \"queue\", got \"rign\" (did you mean \"ring\"?)"));
}

TEST_CASE("toString gives the TOML spelling", "[unit]") {
    CHECK(toString(AttachMode::Auto) == "auto");
    CHECK(toString(AttachMode::Native) == "native");
    CHECK(toString(AttachMode::Generic) == "generic");
    CHECK(toString(EventFormat::Json) == "json");
    CHECK(toString(EventFormat::Text) == "text");
    CHECK(toString(FIZZ_TRANSPORT_QUEUE) == "queue");
    CHECK(toString(FIZZ_TRANSPORT_RING) == "ring");
}
