// fizzhost: command line and dispatch only. Logs go to stderr; events and command output to stdout.
#include "cli/commands.hpp"
#include "cli/frame_option_flags.hpp"
#include "util/error.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fizzhost/plugin_abi.h>

int main(int argc, char** argv) {
    using namespace fizzhost;
    spdlog::set_default_logger(spdlog::stderr_color_mt("fizzhost"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    CLI::App app{"fizzhost: run XDP packet classifiers and swap them live"};
    app.set_version_flag("--version", std::string("fizzhost " FIZZHOST_VERSION " (plugin ABI ") +
                                          std::to_string(FIZZHOST_PLUGIN_ABI_MAJOR) + "." +
                                          std::to_string(FIZZHOST_PLUGIN_ABI_MINOR) + ")");
    std::string logLevel = "info";
    app.add_option("--log-level", logLevel, "trace|debug|info|warn|error")->capture_default_str();

    cli::DaemonOptions daemon;
    app.add_option("-c,--config", daemon.config, "run the host with this TOML config");
    app.add_flag("--allow-insecure-plugins", daemon.allowInsecure,
                 "load plugins not owned by root or writable by others (development only)");

    auto addPluginDir = [](CLI::App* cmd, cli::PluginDirOptions& dir) {
        cmd->add_option("--plugin-dir", dir.pluginDir, "folder of plugin modules (default: " +
                                                           cli::defaultPluginDir().string() + ")");
        cmd->add_flag("--allow-insecure-plugins", dir.allowInsecure, "skip the root-ownership check (development)");
    };

    cli::ClassifyOptions classify;
    auto* classifyCmd = app.add_subcommand("classify", "run a plugin's BPF program on frames from source addresses");
    classifyCmd->add_option("--plugin", classify.plugin, "plugin: NAME (its highest version) or NAME@VERSION")->required();
    addPluginDir(classifyCmd, classify.dir);
    classifyCmd->add_option("addresses", classify.addresses, "IPv4 source addresses (default: one per line on stdin)");
    classifyCmd->add_option("--pcap", classify.pcap, "run every frame of a pcap or pcapng capture (Ethernet) instead");
    cli::addFrameShapeOptions(classifyCmd, classify.shape);

    cli::PluginsOptions plugins;
    auto* pluginsCmd = app.add_subcommand("plugins", "list the plugins found");
    addPluginDir(pluginsCmd, plugins.dir);
    pluginsCmd->add_flag("--json", plugins.json, "machine-readable output");
    pluginsCmd->add_flag("--verify", plugins.verify,
                         "load every plugin version and its program (never attached): OK or the verifier's refusal")
        ->excludes("--json");

    cli::DaemonOptions check;
    auto* checkCmd = app.add_subcommand("check", "validate a config and load (not attach) every program it names");
    checkCmd->add_option("-c,--config", check.config, "TOML config")->required();
    checkCmd->add_flag("--allow-insecure-plugins", check.allowInsecure, "skip the root-ownership check");

    cli::StatusOptions status;
    auto* statusCmd = app.add_subcommand("status", "per-interface, per-variant counters of a running host");
    statusCmd->add_option("-c,--config", status.config, "the running host's config (to find its control socket)");
    statusCmd->add_option("--socket", status.socket, "control socket path");
    statusCmd->add_flag("--json", status.json, "machine-readable output");
    statusCmd
        ->add_option("--cost-window", status.costWindowSeconds,
                     "also measure each link's program (live ns/run) with the kernel's run-time statistics on "
                     "for this many seconds only (needs CAP_SYS_ADMIN)")
        ->check(CLI::Range(0.01, 600.0));

    cli::ReloadOptions reload;
    auto* reloadCmd = app.add_subcommand(
        "reload", "ask the running host to reload its config and wait: exit 0 when live, 1 refused (with the "
                  "reason), 3 no host answering, 4 timeout");
    reloadCmd->add_option("-c,--config", reload.config, "the running host's config (to find its control socket)");
    reloadCmd->add_option("--socket", reload.socket, "control socket path");
    reloadCmd->add_option("--timeout", reload.timeoutSeconds, "seconds to wait for the outcome")->capture_default_str();
    reloadCmd->add_flag("--json", reload.json, "print the host's reload record as JSON");

    cli::DetachOptions detach;
    auto* detachCmd = app.add_subcommand("detach", "detach pinned interfaces a stopped host left attached and remove "
                                                   "their pinned state");
    detachCmd->add_option("-c,--config", detach.config, "the host's config (for its [service] state_root)");
    detachCmd->add_option("--state-root", detach.stateRoot, "the state root (default /sys/fs/bpf/fizzhost)");
    detachCmd->add_flag("--all", detach.all, "every pinned interface");
    detachCmd->add_option("interfaces", detach.interfaces, "interfaces to detach");
    // CLI11 prints every option as optional; one of the interfaces or --all is not.
    detachCmd->footer(std::string("Usage: fizzhost detach ") + cli::kDetachUsage);

    cli::BenchOptions bench;
    auto* benchCmd = app.add_subcommand("bench", "measure plugins' ns per packet with BPF_PROG_TEST_RUN");
    addPluginDir(benchCmd, bench.dir);
    benchCmd->add_option("plugins", bench.plugins, "plugins: NAME or NAME@VERSION (default: all)");
    benchCmd->add_option("--mix", bench.mix, "uniform|worst")->capture_default_str();
    benchCmd->add_option("--transport", bench.transport, "ring|queue")->capture_default_str();
    benchCmd->add_option("--cpus", bench.cpus, "run on N CPUs at once")->capture_default_str();
    benchCmd->add_option("--rounds", bench.rounds, "interleaved rounds")->capture_default_str();
    benchCmd->add_option("--repeat", bench.repeat, "runs per frame per call")->capture_default_str();
    benchCmd->add_option("--format", bench.format, "text|json|bmf (Bencher Metric Format)")->capture_default_str();
    benchCmd->add_flag_callback("--json", [&bench] { bench.format = "json"; }, "machine-readable output (--format json)");
    benchCmd->add_option("--confidence", bench.confidence, "of the intervals")->capture_default_str();
    benchCmd->add_flag("--breakdown", bench.breakdown,
                       "per plugin and transport: parse+count, classify without emit, full; ratios to the floor");

    cli::DiffOptions diff;
    auto* diffCmd = app.add_subcommand(
        "diff", "run plugins A and B on the same frames: the confusion table of their decisions, the cells B is "
                "expected to change, B's cost over A's; exit 0 same or only expected differences, 1 unexpected "
                "differences, 2 B slower beyond --max-slowdown, 3 both, 4 error");
    diffCmd->add_option("a", diff.a, "plugin A: NAME or NAME@VERSION (the reference)")->required();
    diffCmd->add_option("b", diff.b, "plugin B: NAME or NAME@VERSION (the one under test)")->required();
    addPluginDir(diffCmd, diff.dir);
    diffCmd->add_option("--b-plugin-dir", diff.bPluginDir, "B's plugin folder, when not A's");
    diffCmd->add_option("--pcap", diff.pcap, "every frame of a pcap or pcapng capture (Ethernet)");
    diffCmd->add_option("addresses", diff.addresses, "IPv4 sources of shaped frames (default: one per line on stdin)");
    diffCmd->add_option("--expect", diff.expect, "a cell B is meant to change, \"BASELINE -> CANDIDATE\" in kind names "
                                                 "(\"none\": no message); repeatable")
        ->allow_extra_args(false);
    diffCmd->add_option("--expect-file", diff.expectFile, "more such cells, one a line ('#' comments)");
    diffCmd->add_option("--max-slowdown", diff.maxSlowdown,
                        "fail (exit 2) when B over A is past this ratio with the whole interval");
    diffCmd->add_option("--confidence", diff.confidence, "of the intervals")->capture_default_str();
    diffCmd->add_option("--rounds", diff.rounds, "interleaved rounds of the cost measurement")->capture_default_str();
    diffCmd->add_option("--repeat", diff.repeat, "runs per frame per round")->capture_default_str();
    diffCmd->add_option("--cost-frames", diff.costFrames, "time at most this many frames, evenly spread")
        ->capture_default_str();
    diffCmd->add_flag("--no-cost", diff.noCost, "compare decisions only");
    diffCmd->add_option("--examples", diff.examples, "example frames per differing cell")->capture_default_str();
    diffCmd->add_option("--format", diff.format, "text|json|bmf (Bencher Metric Format)")->capture_default_str();
    diffCmd->add_flag_callback("--json", [&diff] { diff.format = "json"; }, "machine-readable output (--format json)");
    cli::addFrameShapeOptions(diffCmd, diff.shape);

    app.require_subcommand(0, 1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        // diff's statuses 1 to 3 are verdicts: a command line it could not read judged nothing.
        return rc != 0 && *diffCmd ? cli::kDiffError : rc;
    }
    spdlog::set_level(spdlog::level::from_str(logLevel));

    try {
        if (*classifyCmd) return cli::classifyCommand(classify);
        if (*pluginsCmd) return cli::pluginsCommand(plugins);
        if (*checkCmd) return cli::checkCommand(check);
        if (*statusCmd) return cli::statusCommand(status);
        if (*reloadCmd) return cli::reloadCommand(reload);
        if (*benchCmd) return cli::benchCommand(bench);
        if (*diffCmd) return cli::diffCommand(diff);
        if (*detachCmd) return cli::detachCommand(detach);
        if (!daemon.config.empty()) return cli::daemonCommand(daemon);
        std::fputs(app.help().c_str(), stderr);
        return 2;
    } catch (const Error& e) {
        spdlog::error("{}", e.what());
        return 1;
    } catch (const std::exception& e) {
        spdlog::error("unexpected: {}", e.what());
        return 1;
    }
}
