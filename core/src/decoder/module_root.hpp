// The folder a worker chroots into: made fresh under the decoder root for one plugin module, owned
// by root, mode 0755, holding nothing but the module's checked bytes as <sha256>.so (0444). Nothing
// else is there to open, and the worker's user can change none of it. Removed on destruction.
#pragma once

#include <filesystem>
#include <span>
#include <string>

namespace fizzhost::decoder {

class ModuleRoot {
public:
    /// Writes `bytes` (whose SHA-256 is `sha256`) into a new folder under `root`. `who` names the
    /// plugin in errors. Throws Error.
    ModuleRoot(const std::filesystem::path& root, std::span<const unsigned char> bytes, const std::string& sha256,
               const std::string& who);
    ~ModuleRoot();
    ModuleRoot(const ModuleRoot&) = delete;
    ModuleRoot& operator=(const ModuleRoot&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    /// The module's name inside the folder: "<sha256>.so" (the worker loads "/<sha256>.so").
    const std::string& fileName() const { return file_; }

private:
    std::filesystem::path dir_;
    std::string file_;
};

}  // namespace fizzhost::decoder
