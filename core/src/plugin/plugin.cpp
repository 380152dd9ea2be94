#include "plugin/plugin.hpp"

#include "plugin/elf_module.hpp"
#include "plugin/module_hash.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>

#include <cstring>

namespace fizzhost::plugin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

}  // namespace

std::string Plugin::abiVersion() const { return std::to_string(abiMajor_) + "." + std::to_string(abiMinor_); }

std::string Plugin::describe() const { return "plugin '" + name_ + "' " + version_ + " (" + path_.string() + ")"; }

std::string_view Plugin::kindName(uint32_t k) const {
    static thread_local std::string fallback;
    if (k < kinds_.size()) return kinds_[k];
    fallback = "kind" + std::to_string(k);
    return fallback;
}

int Plugin::decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields) const noexcept {
    if (!code_) return -ENOEXEC;
    return code_->decode(raw, size, out, fields, uint32_t(fields_.size()));
}

int Plugin::decode(const void* raw, uint32_t size, fizzhost_event& out) const noexcept {
    fizzhost_field_value scratch[FIZZHOST_MAX_FIELDS];
    return decode(raw, size, out, scratch);
}

void Plugin::validate(const fizzhost_plugin_descriptor& d, const std::filesystem::path& file) {
    const std::string where = "plugin file " + quoted(file);
    if (d.magic != FIZZHOST_PLUGIN_MAGIC) throw Error(where + ": not a fizzhost plugin (bad descriptor magic)", EINVAL);
    checkAbi(d.abi_major, d.abi_minor, d.struct_size, descriptorSizes(), "descriptor", where);
    auto require = [&](const char* s, const char* field) {
        if (s == nullptr || *s == 0) throw Error(where + ": descriptor field '" + field + "' is empty", EINVAL);
    };
    require(d.name, "name");
    require(d.version, "version");
    require(d.program, "program");
    require(d.message_map, "message_map");
    checkPluginName(d.name, where);
    checkPluginVersion(d.name, d.version, where);
    if (d.message_size == 0) throw Error(where + ": plugin '" + d.name + "' declares a message size of 0", EINVAL);
    if (d.kind_count == 0 || d.kind_count > FIZZ_MAX_KINDS || d.kinds == nullptr)
        throw Error(where + ": plugin '" + d.name + "' declares " + std::to_string(d.kind_count) +
                        " message kinds (1.." + std::to_string(FIZZ_MAX_KINDS) + " allowed)",
                    EINVAL);
    for (uint32_t i = 0; i < d.kind_count; ++i)
        if (d.kinds[i] == nullptr || *d.kinds[i] == 0)
            throw Error(where + ": plugin '" + d.name + "' kind " + std::to_string(i) + " has no name", EINVAL);
    if (d.bpf_object == nullptr || d.bpf_object_size == 0)
        throw Error(where + ": plugin '" + d.name + "' embeds no BPF object", EINVAL);
    if (d.decode == nullptr) throw Error(where + ": plugin '" + d.name + "' has no decode function", EINVAL);
    if (d.abi_minor >= 1) {  // members ABI 1.1 added; read only when the plugin's minor has them
        if (d.field_count > FIZZHOST_MAX_FIELDS || (d.field_count != 0 && d.fields == nullptr))
            throw Error(where + ": plugin '" + d.name + "' declares " + std::to_string(d.field_count) +
                            " fields (at most " + std::to_string(FIZZHOST_MAX_FIELDS) + ")",
                        EINVAL);
        if (d.decode_fields == nullptr)
            throw Error(where + ": plugin '" + d.name + "' has no decode_fields function", EINVAL);
    }
}

// The facts a (validated) descriptor states, as this plugin's.
void Plugin::takeDescriptor(const fizzhost_plugin_descriptor& d, const std::string& where) {
    name_ = d.name;
    version_ = d.version;
    program_ = d.program;
    messageMap_ = d.message_map;
    messageSize_ = d.message_size;
    abiMajor_ = d.abi_major;
    abiMinor_ = d.abi_minor;
    kinds_.clear();
    for (uint32_t i = 0; i < d.kind_count; ++i) kinds_.emplace_back(d.kinds[i]);
    object_.assign(d.bpf_object, d.bpf_object + d.bpf_object_size);
    fields_.clear();
    if (d.abi_minor >= 1) {
        for (uint32_t i = 0; i < d.field_count; ++i) {
            const auto& f = d.fields[i];
            const void* nul = std::memchr(f.name, 0, sizeof f.name);
            if (!nul) throw Error(where + ": field " + std::to_string(i) + " name is not NUL-terminated", EINVAL);
            fields_.push_back({std::string(f.name, static_cast<const char*>(nul)), fizzhost_field_type(f.type)});
        }
    }
}

std::shared_ptr<const Plugin> Plugin::load(const ModuleFile& module, const PluginInfo& info, LoadCode code) {
    const std::string where = "plugin file " + quoted(module.path);
    std::shared_ptr<Plugin> p(new Plugin());
    p->path_ = std::filesystem::absolute(module.path).lexically_normal();
    p->identity_ = module.identity;
    p->module_ = module.bytes;
    p->sha256_ = sha256Hex(module.bytes);
    if (info.known()) {
        p->name_ = info.name;
        p->version_ = info.version;
        p->program_ = info.program;
        p->messageMap_ = info.messageMap;
        p->messageSize_ = info.messageSize;
        p->abiMajor_ = info.abiMajor;
        p->abiMinor_ = info.abiMinor;
        p->kinds_ = info.kinds;
        p->fields_ = info.fields;
        p->object_ = info.hasMetadata ? embeddedObject(module, inspectElf(module.bytes, where)) : info.describedObject;
    } else if (code == LoadCode::None) {
        throw Error(where + ": an ABI 1.0 module says what it is only through code (its descriptor); list the folder "
                            "with a confined describer, or load the module in process",
                    EINVAL);
    }
    if (code == LoadCode::None) return p;

    auto loaded = ModuleCode::load(module.bytes, module.path);
    const fizzhost_plugin_descriptor& d = loaded->descriptor();
    if (!info.hasMetadata && d.abi_minor >= 1)
        throw Error(where + ": an ABI " + std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor) +
                        " module without its metadata record ('" FIZZHOST_METADATA_SECTION "')",
                    EINVAL);
    if (!info.known()) {
        p->takeDescriptor(d, where);
        if (p->name_ != info.name)
            throw Error(where + ": an ABI 1.0 module is known by its file name, but its descriptor names plugin '" +
                            p->name_ + "'; rename the file to '" + p->name_ + ".so'",
                        EINVAL);
    } else {
        p->requireAgreement(d, where, info.hasMetadata);
    }
    p->code_ = std::move(loaded);
    return p;
}

// The code must say what the catalog listed, indexed and chose the plugin by: the host runs exactly
// that.
void Plugin::requireAgreement(const fizzhost_plugin_descriptor& d, const std::string& where, bool fromRecord) const {
    Plugin said;
    said.takeDescriptor(d, where);
    const std::string why = where + ": descriptor disagrees with the " +
                            (fromRecord ? "metadata record: " : "confined worker's description: ");
    auto differ = [&](const char* what, const std::string& a, const std::string& b) {
        if (a != b) throw Error(why + what + " '" + a + "' vs '" + b + "'", EINVAL);
    };
    differ("name", said.name_, name_);
    differ("version", said.version_, version_);
    differ("program", said.program_, program_);
    differ("message map", said.messageMap_, messageMap_);
    differ("message size", std::to_string(said.messageSize_), std::to_string(messageSize_));
    differ("ABI", said.abiVersion(), abiVersion());
    differ("kinds", joined(said.kinds_), joined(kinds_));
    if (said.fields_ != fields_) throw Error(why + "fields differ", EINVAL);
    if (said.object_ != object_)
        throw Error(why + "embedded BPF object differs (" + std::to_string(said.object_.size()) + " vs " +
                        std::to_string(object_.size()) + " bytes)",
                    EINVAL);
}

std::shared_ptr<const ModuleCode> Plugin::loadCode() const {
    if (code_) return code_;
    auto loaded = ModuleCode::load(module_, path_);
    requireAgreement(loaded->descriptor(), "plugin file " + quoted(path_), abiMinor_ >= 1);
    return loaded;
}

std::shared_ptr<const Plugin> Plugin::load(const std::filesystem::path& file, const FilePolicy& policy) {
    ModuleFile module = readModuleFile(file, policy);
    ElfModule elf = inspectElf(module.bytes, "plugin file " + quoted(file));
    PluginInfo info = readPluginInfo(module, elf);
    if (!info.hasMetadata)
        checkPluginName(info.name, "plugin file " + quoted(file) + " (ABI 1.0 module, known by its file name)");
    return load(module, info, LoadCode::InProcess);
}

}  // namespace fizzhost::plugin
