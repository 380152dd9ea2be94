# Checks every #include of a layer header under core/src against the layer table declared with
# fizzhost_layer() in core/CMakeLists.txt: a file in core/src/<layer>/ may include headers of its
# own layer and of the layers it USES, nothing else. Linking catches a call into a higher layer's
# .cpp; this also catches what linking cannot see (inline functions, templates, types, constants).
# Run by the build (target fizzhost_layer_check) and by ctest (test "layers").
#   cmake -DSOURCE_DIR=<core/src> -DLAYERS=util,bpf,... -DUSES_<layer>=a,b,... [-DSTAMP=file] -P CheckLayers.cmake
cmake_minimum_required(VERSION 3.20)

if(NOT SOURCE_DIR OR NOT LAYERS)
  message(FATAL_ERROR "CheckLayers.cmake: pass -DSOURCE_DIR and -DLAYERS (and -DUSES_<layer> for each layer)")
endif()
string(REPLACE "," ";" layers "${LAYERS}")

set(problems "")
set(checked 0)
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/*.hpp" "${SOURCE_DIR}/*.cpp" "${SOURCE_DIR}/*.h"
     "${SOURCE_DIR}/*.c")
list(SORT files)
foreach(file IN LISTS files)
  # Files directly under core/src (main.cpp) wire the layers together: they may use all of them.
  if(NOT file MATCHES "/")
    continue()
  endif()
  string(REGEX REPLACE "/.*" "" layer "${file}")
  if(NOT layer IN_LIST layers)
    string(APPEND problems "  core/src/${file}: '${layer}' is not a layer: declare it with fizzhost_layer() in core/CMakeLists.txt\n")
    continue()
  endif()
  string(REPLACE "," ";" allowed "${USES_${layer}}")
  list(APPEND allowed ${layer})
  file(STRINGS "${SOURCE_DIR}/${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[\"<]([A-Za-z0-9_]+)/([^\">]*)[\">]")
      set(target "${CMAKE_MATCH_1}")
      set(header "${CMAKE_MATCH_1}/${CMAKE_MATCH_2}")
      if(target IN_LIST layers)
        math(EXPR checked "${checked} + 1")
      endif()
      if(target IN_LIST layers AND NOT target IN_LIST allowed)
        string(REPLACE ";" ", " may "${allowed}")
        string(APPEND problems "  core/src/${file}:${number}: layer '${layer}' includes \"${header}\" of layer '${target}'; '${layer}' may use only: ${may}\n")
      endif()
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "layer check: includes against the layer order (core/CMakeLists.txt, README \"Layout\"):\n${problems}")
endif()
list(LENGTH files count)
message(STATUS "layer check: ${count} files, ${checked} includes of layer headers, all in order")
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
