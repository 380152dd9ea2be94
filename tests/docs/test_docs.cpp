// The docs hold what the code does: every config key the loader knows is in the reference and no
// other, every TOML example loads with the real loader (or fails with the error printed after it),
// every command line names only options the command's --help lists, the `classify` examples print
// what the docs show, and the README's test command is the one CI runs.
#include "config/config_keys.hpp"
#include "config/config_loader.hpp"
#include "service/web_config_keys.hpp"
#include "util/error.hpp"
#include "support/cli_run.hpp"
#include "support/config_text.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

using namespace fizzhost;
namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = FIZZHOST_SOURCE_DIR;

std::string readText(const fs::path& p) {
    std::ifstream in(p);
    INFO(p);
    REQUIRE(in.is_open());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// One fenced code block: its file, the line of its opening fence, its language tag, its text.
struct Block {
    fs::path file;
    size_t line = 0;
    std::string lang;
    std::string text;
    std::string where() const { return file.filename().string() + ":" + std::to_string(line); }
};

std::vector<Block> blocksOf(const fs::path& file) {
    std::vector<Block> out;
    std::istringstream in(readText(file));
    std::string line;
    size_t n = 0;
    std::optional<Block> open;
    while (std::getline(in, line)) {
        ++n;
        if (line.rfind("```", 0) == 0) {
            if (open) {
                out.push_back(*open);
                open.reset();
            } else {
                open = Block{file, n, line.substr(3), ""};
            }
        } else if (open) {
            open->text += line + "\n";
        }
    }
    INFO(file << ": a fence opened at line " << (open ? open->line : 0) << " is never closed");
    CHECK_FALSE(open.has_value());
    return out;
}

// README.md and every docs/*.md, in a stable order.
std::vector<fs::path> docFiles() {
    std::vector<fs::path> files = {kSourceDir / "README.md"};
    std::vector<fs::path> docs;
    for (const auto& e : fs::directory_iterator(kSourceDir / "docs"))
        if (e.path().extension() == ".md") docs.push_back(e.path());
    std::sort(docs.begin(), docs.end());
    files.insert(files.end(), docs.begin(), docs.end());
    return files;
}

std::vector<Block> allBlocks() {
    std::vector<Block> all;
    for (const auto& f : docFiles()) {
        auto b = blocksOf(f);
        all.insert(all.end(), b.begin(), b.end());
    }
    return all;
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

// "`key`" in the first column of a table row, under a heading that names the table.
std::map<std::string, std::set<std::string>> referenceKeys(const fs::path& file) {
    std::map<std::string, std::set<std::string>> out;
    std::istringstream in(readText(file));
    std::string line, table;
    bool inTables = false;
    const std::regex heading(R"(^#{2,3} (?:`\[([^\]]+)\]`|(Top level)|(The web config file)))");
    const std::regex row(R"(^\| `([a-z_.]+)` \|)");
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, heading)) {
            inTables = true;
            table = m[1].matched ? m[1].str() : m[2].matched ? "" : "web";
        } else if (inTables && std::regex_search(line, m, row)) {
            out[table].insert(m[1].str());
        }
    }
    return out;
}

// fizzhost's subcommands, and the options each --help lists (cached: one run per command).
const std::set<std::string> kSubcommands = {"check", "status", "classify", "plugins", "bench",
                                            "diff",  "reload", "detach"};

std::string helpOf(const std::string& program, const std::string& sub) {
    static std::map<std::string, std::string> cache;
    const std::string key = program + " " + sub;
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    std::vector<std::string> args;
    if (!sub.empty()) args.push_back(sub);
    args.push_back("--help");
    auto run = test::runToEnd(program, args);
    INFO(key << " --help:\n" << run.err);
    REQUIRE(run.status == 0);
    return cache[key] = run.out + run.err;
}

std::string binaryFor(const std::string& word) {
    const std::string base = fs::path(word).filename().string();
    if (base == "fizzhost") return FIZZHOST_BINARY;
    if (base == "fizzhost-send") return FIZZHOST_SEND_BINARY;
    if (base == "fizzhost-gen") return FIZZHOST_GEN_BINARY;
    return "";
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// A command line as the docs show it: "$ " prompts, "ip netns exec NS" and continuation lines
// (a trailing backslash, or an indented line of a usage synopsis) joined.
struct CommandLine {
    std::string text;
    std::vector<std::string> argv;  // from the program on
};

std::vector<CommandLine> commandsIn(const Block& b) {
    std::vector<CommandLine> out;
    std::istringstream in(b.text);
    std::string line;
    std::string pending;
    auto flush = [&] {
        if (pending.empty()) return;
        auto w = words(pending);
        size_t i = 0;
        if (i < w.size() && w[i] == "$") ++i;
        if (i + 3 < w.size() && w[i] == "ip" && w[i + 1] == "netns" && w[i + 2] == "exec") i += 4;
        if (i < w.size() && !binaryFor(w[i]).empty())
            out.push_back({pending, std::vector<std::string>(w.begin() + long(i), w.end())});
        pending.clear();
    };
    while (std::getline(in, line)) {
        const bool continues = !pending.empty() && (pending.back() == '\\' || (line.rfind("    ", 0) == 0 &&
                                                                                 trimmed(line).rfind("[", 0) == 0));
        if (continues) {
            if (pending.back() == '\\') pending.pop_back();
            pending += " " + trimmed(line);
            continue;
        }
        flush();
        pending = trimmed(line);
        if (pending.rfind("$ ", 0) != 0 && binaryFor(words(pending).empty() ? "" : words(pending)[0]).empty() &&
            pending.rfind("ip netns exec", 0) != 0)
            pending.clear();
    }
    flush();
    return out;
}

// The config the docs' examples are loaded against when they name no interface: a fragment such
// as `[guard]` alone is meant to sit in a config that has one.
constexpr const char* kOneInterface = "\n[interface.docs0]\nclassifier = \"fizz\"\n";

}  // namespace

TEST_CASE("docs: the configuration reference lists exactly the keys the loader takes", "[docs]") {
    auto reference = referenceKeys(kSourceDir / "docs" / "configuration.md");
    for (const auto& table : config::knownKeys()) {
        const std::string name(table.table);
        INFO("docs/configuration.md, table [" << name << "] (\"\" is the top level)");
        std::set<std::string> loader(table.keys.begin(), table.keys.end());
        for (const auto& k : loader) {
            INFO("the loader takes '" << k << "': the reference must list it");
            CHECK(reference[name].count(k) == 1);
        }
        for (const auto& k : reference[name]) {
            INFO("the reference lists '" << k << "': the loader does not take it");
            CHECK(loader.count(k) == 1);
        }
        reference.erase(name);
    }
    std::set<std::string> web;
    for (auto k : service::webConfigTopKeys()) web.insert(std::string(k));
    for (auto k : service::webConfigTlsKeys()) web.insert("tls_server_config." + std::string(k));
    CHECK(reference["web"] == web);
    reference.erase("web");
    for (const auto& [name, keys] : reference) {
        INFO("the reference has a table [" << name << "] the loader does not read");
        CHECK(keys.empty());
    }
}

TEST_CASE("docs: every TOML example loads with the real loader, or fails as the docs say", "[docs]") {
    const auto blocks = allBlocks();
    size_t loaded = 0, refused = 0;
    for (size_t i = 0; i < blocks.size(); ++i) {
        const Block& b = blocks[i];
        if (b.lang != "toml") continue;
        INFO(b.where() << ":\n" << b.text);
        std::string text = b.text;
        if (text.find("[interface.") == std::string::npos) text += kOneInterface;
        if (b.text.rfind("# refused", 0) == 0) {
            // The next block is the error, as the loader words it for a file called fizz.toml.
            REQUIRE(i + 1 < blocks.size());
            const std::string said = test::errorOf([&] { config::parseConfig(text, "fizz.toml", FIZZHOST_PLUGIN_DIR); });
            CHECK(said == trimmed(blocks[i + 1].text));
            ++refused;
        } else {
            CHECK_NOTHROW(config::parseConfig(text, b.file, FIZZHOST_PLUGIN_DIR));
            ++loaded;
        }
    }
    CHECK(loaded >= 8);
    CHECK(refused >= 1);
}

TEST_CASE("docs: every config file the docs name loads", "[docs]") {
    for (const char* name : {"config/fizz.toml", "config/rollout.example.toml", "config/shadow.example.toml",
                             "config/progressive.example.toml", "config/multi.example.toml"}) {
        INFO(name);
        CHECK_NOTHROW(config::parseConfig(readText(kSourceDir / name), kSourceDir / name, FIZZHOST_PLUGIN_DIR));
    }
}

TEST_CASE("docs: every command line names only options its command takes", "[docs]") {
    const std::regex option(R"((^|[\s\[|(])(--[a-z][a-z0-9-]*))");
    size_t checked = 0;
    for (const auto& b : allBlocks()) {
        if (b.lang == "toml" || b.lang == "yaml" || b.lang == "c" || b.lang == "cpp" || b.lang == "cmake") continue;
        for (const auto& cmd : commandsIn(b)) {
            INFO(b.where() << ": " << cmd.text);
            const std::string program = binaryFor(cmd.argv[0]);
            std::string sub;
            if (program == FIZZHOST_BINARY && cmd.argv.size() > 1 && kSubcommands.count(cmd.argv[1])) sub = cmd.argv[1];
            const std::string help = helpOf(program, sub);
            for (std::sregex_iterator it(cmd.text.begin(), cmd.text.end(), option), end; it != end; ++it) {
                const std::string opt = (*it)[2].str();
                INFO(opt << " in `" << fs::path(program).filename().string() << " " << sub << " --help`:\n" << help);
                CHECK(std::regex_search(help, std::regex("(^|[\\s,])" + opt + "([\\s,=]|$)")));
            }
            ++checked;
        }
    }
    CHECK(checked >= 20);
}

TEST_CASE("docs: the classify examples print what the docs show", "[docs]") {
    if (!test::requirePrivilege("run plugins' BPF programs (BPF_PROG_TEST_RUN) for the docs' examples")) return;
    const auto blocks = allBlocks();
    size_t ran = 0;
    for (size_t i = 0; i + 1 < blocks.size(); ++i) {
        const Block& b = blocks[i];
        auto cmds = commandsIn(b);
        if (cmds.size() != 1 || cmds[0].argv.size() < 2 || cmds[0].argv[1] != "classify") continue;
        const std::string shown = trimmed(blocks[i + 1].text);
        if (shown.rfind("{", 0) != 0) continue;  // no output printed after it
        std::vector<std::string> args(cmds[0].argv.begin() + 1, cmds[0].argv.end());
        // The build's plugins, wherever the docs say they are; a plugin the build does not ship
        // (an example built against the installed SDK) is run by the sdk tests instead.
        std::string plugin;
        for (size_t a = 0; a + 1 < args.size();) {
            if (args[a] == "--plugin") plugin = args[a + 1].substr(0, args[a + 1].find('@'));
            if (args[a] == "--plugin-dir")
                args.erase(args.begin() + long(a), args.begin() + long(a) + 2);
            else
                ++a;
        }
        if (!fs::exists(fs::path(FIZZHOST_PLUGIN_DIR) / (plugin + ".so"))) continue;
        args.insert(args.begin() + 1, {"--plugin-dir", FIZZHOST_PLUGIN_DIR});
        INFO(b.where() << ": " << cmds[0].text);
        auto run = test::runFizzhost(args);
        INFO(run.err);
        CHECK(run.status == 0);
        CHECK(trimmed(run.out) == shown);
        ++ran;
    }
    CHECK(ran >= 1);
}

TEST_CASE("docs: the README's test command is the one CI runs", "[docs]") {
    std::string readmeCommand;
    for (const auto& b : blocksOf(kSourceDir / "README.md")) {
        if (b.lang == "sh" && b.text.find("scripts/test.sh") != std::string::npos) readmeCommand = trimmed(b.text);
    }
    REQUIRE_FALSE(readmeCommand.empty());
    std::istringstream ci(readText(kSourceDir / ".ci" / "run"));
    std::string line, last;
    while (std::getline(ci, line))
        if (!trimmed(line).empty()) last = trimmed(line);
    CHECK(last == readmeCommand);
}

TEST_CASE("docs: every file the docs map links to is named, and links between docs resolve", "[docs]") {
    const std::regex link(R"(\]\(([^)#:]+\.md)\))");
    // Written beside this work on other branches; the map names them already.
    const std::set<std::string> coming = {"output.md", "plugin-confinement.md", "beside-other-programs.md",
                                          "rollouts.md", "performance.md"};
    for (const auto& f : docFiles()) {
        const std::string text = readText(f);
        for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
            const fs::path target = f.parent_path() / (*it)[1].str();
            if (coming.count(target.filename().string()) && !fs::exists(target)) continue;
            INFO(f.filename() << " links to " << (*it)[1].str());
            CHECK(fs::exists(target));
        }
    }
}
