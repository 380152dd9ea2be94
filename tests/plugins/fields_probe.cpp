// Decoder of the fields-probe test plugin: every field type, one line each, and one field left unset
// for even sources (shown as null).
#include <fizzhost/plugin.hpp>

#include "fields_probe_msg.h"

namespace {

constexpr const char* kKinds[] = {"Even", "Odd"};
enum : uint32_t { kSrc, kBig, kDelta, kOdd, kLabel, kRatio, kOnlyOdd };
constexpr fizzhost::sdk::Field kFields[] = {
    {"src", FIZZHOST_FIELD_IPV4},     {"big", FIZZHOST_FIELD_U64},      {"delta", FIZZHOST_FIELD_I64},
    {"odd", FIZZHOST_FIELD_BOOL},     {"label", FIZZHOST_FIELD_STRING}, {"ratio", FIZZHOST_FIELD_DOUBLE},
    {"only_odd", FIZZHOST_FIELD_U64},
};

int decode(const fields_probe_msg& m, fizzhost_event& e, fizzhost::sdk::Fields& f) noexcept {
    if (m.kind > 1) return -EINVAL;
    e.kind = m.kind;
    e.src_addr = m.saddr;
    f.ipv4(kSrc, m.saddr);
    f.u64(kBig, m.big);
    f.i64(kDelta, m.delta);
    f.boolean(kOdd, m.odd != 0);
    f.string(kLabel, m.label);
    f.real(kRatio, double(m.delta) / 4.0);
    if (m.odd) f.u64(kOnlyOdd, m.saddr & 0xff);
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN_WITH_FIELDS(fields_probe_msg, "fields_probe_xdp", kKinds, kFields, decode)
