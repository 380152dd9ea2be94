// Decoder of the ipv4-fields classifier: the kind, and the header values as typed event fields.
#include <fizzhost/plugin.hpp>

#include "ipv4_fields_msg.h"

namespace {

// Indexed by enum ipv4_fields_kind.
constexpr const char* kKinds[] = {"TCP", "UDP", "ICMP", "Other"};
static_assert(sizeof(kKinds) / sizeof(kKinds[0]) == IPV4_FIELDS_KIND_COUNT);

// Field indexes, in the declared order (the order of the keys in every output).
enum : uint32_t { kDst, kTtl, kProtocol, kDstPort, kVlanTags };
constexpr fizzhost::sdk::Field kFields[] = {
    {"dst", FIZZHOST_FIELD_IPV4},      {"ttl", FIZZHOST_FIELD_U64},       {"protocol", FIZZHOST_FIELD_U64},
    {"dst_port", FIZZHOST_FIELD_U64},  {"vlan_tags", FIZZHOST_FIELD_U64},
};

int decode(const ipv4_fields_msg& m, fizzhost_event& e, fizzhost::sdk::Fields& f) noexcept {
    if (m.kind >= IPV4_FIELDS_KIND_COUNT) return -EINVAL;
    e.kind = m.kind;
    e.src_addr = m.saddr;
    f.ipv4(kDst, m.daddr);
    f.u64(kTtl, m.ttl);
    f.u64(kProtocol, m.protocol);
    if (m.has_ports) f.u64(kDstPort, m.dport);  // left unset (null) for ICMP and the rest
    f.u64(kVlanTags, m.vlan_tags);
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN_WITH_FIELDS(ipv4_fields_msg, "ipv4_fields_xdp", kKinds, kFields, decode)
