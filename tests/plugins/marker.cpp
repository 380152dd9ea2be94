// A valid plugin (fizz's program with the shared test decoder, fizz_msg_decoder.cpp) whose
// constructor leaves a marker file (path in FIZZTEST_MARKER): proves that listing a plugin folder
// runs no module code, and that loading one does.
#include <cstdio>
#include <cstdlib>

namespace {

__attribute__((constructor)) void leaveMarker() {
    if (const char* path = std::getenv("FIZZTEST_MARKER"))
        if (FILE* f = std::fopen(path, "w")) std::fclose(f);
}

}  // namespace
