#include "util/error.hpp"

#include <cstdlib>
#include <string.h>

namespace fizzhost {

std::string errnoText(int err) {
    if (err < 0) err = -err;
    const char* name = strerrorname_np(err);
    std::string text = strerror(err);
    text += " (";
    text += name ? name : ("errno " + std::to_string(err)).c_str();
    text += ")";
    return text;
}

void throwErrno(const std::string& what, int err) {
    if (err < 0) err = -err;
    throw Error(what + ": " + errnoText(err), err);
}

}  // namespace fizzhost
