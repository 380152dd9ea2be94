// Decoder of the web-tag test plugin: 1.1.0 (WEB_TAG_RULE) declares the Web kind it adds.
#include <fizzhost/plugin.hpp>

#include "web_tag_msg.h"

#include <iterator>

namespace {

#ifdef WEB_TAG_RULE
constexpr const char* kKinds[] = {"Fizz", "Web"};
#else
constexpr const char* kKinds[] = {"Fizz"};
#endif

int decode(const web_tag_msg& msg, fizzhost_event& event) noexcept {
    if (msg.kind >= std::size(kKinds)) return -EINVAL;
    event.kind = msg.kind;
    event.src_addr = msg.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(web_tag_msg, "web_tag_xdp", kKinds, decode)
