// The pinned state's record and the config keys that place and keep it: no kernel needed.
#include "config/config_loader.hpp"
#include "runtime/pinned/pin_store.hpp"
#include "util/error.hpp"
#include "plugin/module_hash.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using Catch::Matchers::Contains;

TEST_CASE("[service] state_root and on_exit: defaults, values and errors with a position", "[unit]") {
    const std::string iface = "[interface.eth0]\nclassifier = \"fizz\"\n";
    auto def = config::parseConfig(iface, "fizz.toml", "/p");
    CHECK(def.service.stateRoot == "/sys/fs/bpf/fizzhost");
    CHECK(def.service.onExit == config::OnExit::Detach);
    auto set = config::parseConfig(iface + "[service]\nstate_root = \"/sys/fs/bpf/edge\"\non_exit = \"keep\"\n",
                                   "/etc/fizz.toml", "/p");
    CHECK(set.service.stateRoot == "/sys/fs/bpf/edge");
    CHECK(set.service.onExit == config::OnExit::Keep);
    // Relative to the config file's folder, like every other path.
    CHECK(config::parseConfig(iface + "[service]\nstate_root = \"pins\"\n", "/etc/fizz/fizz.toml", "/p")
              .service.stateRoot == "/etc/fizz/pins");
    CHECK_THROWS_WITH(config::parseConfig(iface + "[service]\non_exit = \"kepp\"\n", "f.toml", "/p"),
                      Contains("f.toml:") && Contains("service.on_exit") && Contains("did you mean \"keep\""));
    CHECK_THROWS_WITH(config::parseConfig(iface + "[service]\nstate_root = \"\"\n", "f.toml", "/p"),
                      Contains("must not be empty"));
}

TEST_CASE("the pinned record survives its JSON form, and refuses another format or a missing key", "[unit]") {
    runtime::PinRecord r;
    r.interface = "eth0";
    r.netns = "net:[4026531840]";
    r.ifindex = 7;
    r.linkId = 42;
    r.configuredMode = "auto";
    r.mode = "native";
    r.transport = "ring";
    r.ringSlots = 300000;
    r.queueSize = 1024;
    r.cpus = 2;
    r.variants.push_back({"baseline", "fizz", "1.0.0", std::string(64, 'a'), "1.1", 8, 1001, "baseline-1001-regions",
                          "baseline-1001-queue", "0123456789abcdef"});
    r.variants.push_back({"candidate", "fizzbuzz", "2.0.0", std::string(64, 'b'), "1.1", 8, 1002,
                          "candidate-1002-regions", "candidate-1002-queue", ""});
    r.dispatcher = runtime::PinnedDispatcher{1003, 25, "dispatcher-1003-variants", "dispatcher-1003-split", false,
                                             false, "fedcba9876543210"};
    // The intent of a commit under way: a new baseline and no rollout.
    r.pending = runtime::PinnedPending{{{"baseline", "fibonacci", "1.0.0", std::string(64, 'c'), "1.1", 8, 1004,
                                         "baseline-1004-regions", "baseline-1004-queue", "00112233445566ff"}},
                                       std::nullopt};

    const auto back = runtime::PinRecord::fromJson(nlohmann::json::parse(r.toJson().dump()));
    CHECK(back.toJson() == r.toJson());
    REQUIRE(back.variant("candidate"));
    CHECK(back.variant("candidate")->programId == 1002);
    CHECK(back.dispatcher->percent == 25);
    CHECK(back.dispatcher->tag == "fedcba9876543210");
    CHECK(back.linkProgramId() == 1003);  // the dispatcher runs on the link during a rollout
    REQUIRE(back.pending);
    CHECK(back.pending->linkProgramId() == 1004);
    CHECK(back.pending->variants.at(0).tag == "00112233445566ff");
    CHECK_FALSE(back.variant("other"));

    auto j = r.toJson();
    j["format"] = 99;
    CHECK_THROWS_WITH(runtime::PinRecord::fromJson(j), Contains("record format 99"));
    j = r.toJson();
    j.erase("ring_slots");
    CHECK_THROWS_AS(runtime::PinRecord::fromJson(j), Error);
    j = r.toJson();
    j.erase("netns");  // written before the namespace was kept: unknown, not refused
    CHECK(runtime::PinRecord::fromJson(j).netns.empty());
    // Shadow mode and whether the shadow's events were wanted; absent in older records: split mode.
    r.dispatcher->shadow = true;
    r.dispatcher->shadowEvents = true;
    const auto shadow = runtime::PinRecord::fromJson(nlohmann::json::parse(r.toJson().dump()));
    CHECK(shadow.dispatcher->shadow);
    CHECK(shadow.dispatcher->shadowEvents);
    j = r.toJson();
    j["dispatcher"].erase("shadow");
    j["dispatcher"].erase("shadow_events");
    CHECK_FALSE(runtime::PinRecord::fromJson(j).dispatcher->shadow);
    CHECK_FALSE(runtime::PinRecord::fromJson(j).dispatcher->shadowEvents);
}

TEST_CASE("sha256Hex matches the FIPS 180-2 test vectors", "[unit]") {
    const std::string abc = "abc";
    CHECK(plugin::sha256Hex({reinterpret_cast<const unsigned char*>(abc.data()), abc.size()}) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(plugin::sha256Hex({}) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a pinned record whose pin names lead out of the interface's folder is refused, naming the value",
          "[unit]") {
    runtime::PinRecord r;
    r.interface = "eth0";
    r.configuredMode = "auto";
    r.mode = "native";
    r.transport = "ring";
    r.variants.push_back({"baseline", "fizz", "1.0.0", std::string(64, 'a'), "1.1", 8, 1001, "baseline-1001-regions",
                          "baseline-1001-queue", "0123456789abcdef"});
    r.variants.push_back({"candidate", "fizzbuzz", "2.0.0", std::string(64, 'b'), "1.1", 8, 1002,
                          "candidate-1002-regions", "candidate-1002-queue", ""});
    r.dispatcher = runtime::PinnedDispatcher{1003, 25, "dispatcher-1003-variants", "dispatcher-1003-split", false,
                                             false, ""};
    const nlohmann::json good = r.toJson();
    CHECK_NOTHROW(runtime::PinRecord::fromJson(good));

    struct Bad {
        nlohmann::json::json_pointer at;
        std::string value, what;
    };
    const std::vector<Bad> bad = {
        {"/variants/0/regions"_json_pointer, "../../xdp/evil", "baseline regions pin '../../xdp/evil' contains '/'"},
        {"/variants/1/queue"_json_pointer, "/sys/fs/bpf/evil", "candidate queue pin '/sys/fs/bpf/evil' contains '/'"},
        {"/variants/0/queue"_json_pointer, "..", "baseline queue pin '..' is '..'"},
        {"/variants/0/regions"_json_pointer, ".", "baseline regions pin '.' is '.'"},
        {"/variants/0/regions"_json_pointer, "", "baseline regions pin '' is empty"},
        {"/dispatcher/variants"_json_pointer, "..\\evil", "dispatcher variants pin '..\\\\evil' holds characters"},
        {"/dispatcher/split"_json_pointer, std::string(65, 's'), "is 65 bytes; a pin name has at most 64"},
        {"/dispatcher/split"_json_pointer, "split\nlink", "dispatcher split pin 'split\\nlink' holds characters"},
    };
    for (const auto& b : bad) {
        INFO(b.at.to_string() << " = " << b.value);
        nlohmann::json j = good;
        j[b.at] = b.value;
        int code = 0;
        std::string err;
        try {
            runtime::PinRecord::fromJson(j);
        } catch (const Error& e) {
            code = e.code();
            err = e.what();
        }
        CHECK(code == EPROTO);
        CHECK_THAT(err, Contains("pinned record of interface 'eth0': " ) && Contains(b.what) &&
                            Contains("the record is refused, nothing it names is opened"));
    }
}
