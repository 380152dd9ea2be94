// The host's configuration as validated plain structs. Produced by config_loader; no kernel calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::config {

enum class AttachMode { Auto, Native, Generic };
enum class EventFormat { Json, Text };
enum class Transport { Queue, Ringbuf };

struct Rollout {
    std::string candidate;
    unsigned percent = 0;
};

struct Interface {
    std::string name;
    std::string classifier;
    AttachMode mode = AttachMode::Auto;
    std::optional<Rollout> rollout;
};

struct Output {
    std::string events = "-";  // "-" = stdout, else an absolute path
    EventFormat format = EventFormat::Json;
    Transport transport = Transport::Queue;
    uint32_t ringbufSize = 256 * 1024;
};

struct Guard {
    std::optional<double> maxSlowdown;
    std::string mix = "uniform";
};

struct HostConfig {
    std::filesystem::path source;     // the file it came from
    std::filesystem::path pluginDir;  // absolute
    uint32_t queueSize = 1024;
    bool allowInsecurePlugins = false;
    std::filesystem::path controlSocket = "/run/fizzhost/fizzhost.sock";
    Output output;
    Guard guard;
    std::vector<Interface> interfaces;  // sorted by name

    const Interface* findInterface(std::string_view name) const {
        for (const auto& i : interfaces)
            if (i.name == name) return &i;
        return nullptr;
    }
};

std::string_view toString(AttachMode mode);
std::string_view toString(EventFormat format);
std::string_view toString(Transport transport);

}  // namespace fizzhost::config
