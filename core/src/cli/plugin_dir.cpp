#include "cli/commands.hpp"

#include "decoder/legacy_describer.hpp"
#include "decoder/worker_environment.hpp"

#include <unistd.h>

#include <system_error>

namespace fizzhost::cli {

std::filesystem::path defaultPluginDir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "/usr/local/lib/fizzhost/plugins";
    auto dir = exe.parent_path();
    if (std::filesystem::is_directory(dir / "plugins", ec)) return dir / "plugins";  // build tree
    for (const char* lib : {"lib", "lib64", "lib/x86_64-linux-gnu"}) {
        auto p = dir.parent_path() / lib / "fizzhost" / "plugins";
        if (std::filesystem::is_directory(p, ec)) return p;
    }
    return dir.parent_path() / "lib" / "fizzhost" / "plugins";
}

std::filesystem::path PluginDirOptions::resolved() const {
    return pluginDir.empty() ? defaultPluginDir() : std::filesystem::absolute(pluginDir);
}

plugin::Catalog PluginDirOptions::confinedCatalog() const {
    plugin::CatalogOptions options;
    options.describe = decoder::legacyDescriber(decoder::settingsFromEnvironment(), allowInsecure);
    options.code = plugin::LoadCode::None;
    return plugin::Catalog(resolved(), plugin::FilePolicy::forProcess(allowInsecure), std::move(options));
}

}  // namespace fizzhost::cli
