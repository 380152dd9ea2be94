# Checks every #include of a layer header under core/src against the layer table declared with
# fizzhost_layer() in core/CMakeLists.txt: a file of a layer may include headers of its own layer
# and of the layers it USES, nothing else; and every layer a declaration USES is included by at
# least one of its files, so the table is the real graph, not a wish. Linking catches a call into a
# higher layer's .cpp; this also catches what linking cannot see (inline functions, templates,
# types, constants). Run by the build (target fizzhost_layer_check) and by ctest (test "layers").
#
# A layer is a folder under core/src: `util`, or a room of a layer such as `runtime/output`. A file
# belongs to the longest declared layer its path starts with; so does an included header. A path
# under a folder that holds rooms (`runtime/x.hpp` beside `runtime/output/`) belongs to no layer and
# is an error.
#   cmake -DSOURCE_DIR=<core/src> -DLAYERS=util,bpf,runtime/instance,... -DUSES_<id>=a,b,... [-DSTAMP=file]
#         -P CheckLayers.cmake        (<id>: the layer's name with '/' written '_', e.g. USES_runtime_output)
cmake_minimum_required(VERSION 3.20)

if(NOT SOURCE_DIR OR NOT LAYERS)
  message(FATAL_ERROR "CheckLayers.cmake: pass -DSOURCE_DIR and -DLAYERS (and -DUSES_<id> for each layer)")
endif()
string(REPLACE "," ";" layers "${LAYERS}")
set(roots "")
foreach(layer IN LISTS layers)
  string(REGEX REPLACE "/.*" "" root "${layer}")
  list(APPEND roots "${root}")
endforeach()
list(REMOVE_DUPLICATES roots)

# The layer `path` (a file or header path relative to core/src) belongs to, in `out`: the longest
# declared layer it lies under; "" when its first folder is no layer's; "?" when that folder holds
# layers but none of them holds the path.
function(layer_of path out)
  set(best "")
  foreach(layer IN LISTS layers)
    string(LENGTH "${layer}/" n)
    string(SUBSTRING "${path}" 0 ${n} head)
    string(LENGTH "${best}" bn)
    if(head STREQUAL "${layer}/" AND n GREATER bn)
      set(best "${layer}")
    endif()
  endforeach()
  if(best STREQUAL "")
    string(REGEX REPLACE "/.*" "" root "${path}")
    if(root IN_LIST roots)
      set(best "?")
    endif()
  endif()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()

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
  layer_of("${file}" layer)
  if(layer STREQUAL "" OR layer STREQUAL "?")
    string(REGEX REPLACE "/[^/]*$" "" dir "${file}")
    string(APPEND problems "  core/src/${file}: '${dir}' is not a layer: declare it with fizzhost_layer() in core/CMakeLists.txt\n")
    continue()
  endif()
  string(MAKE_C_IDENTIFIER "${layer}" id)
  string(REPLACE "," ";" allowed "${USES_${id}}")
  file(STRINGS "${SOURCE_DIR}/${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[\"<]([A-Za-z0-9_]+/[^\">]*)[\">]")
      set(header "${CMAKE_MATCH_1}")
      layer_of("${header}" target)
      if(target STREQUAL "")
        continue()
      endif()
      math(EXPR checked "${checked} + 1")
      if(target STREQUAL "?")
        string(APPEND problems "  core/src/${file}:${number}: includes \"${header}\", which lies in no layer\n")
      elseif(NOT target STREQUAL layer AND NOT target IN_LIST allowed)
        set(may "${layer}")
        if(allowed)
          string(REPLACE ";" ", " list "${allowed}")
          set(may "${layer}, ${list}")
        endif()
        string(APPEND problems "  core/src/${file}:${number}: layer '${layer}' includes \"${header}\" of layer '${target}'; '${layer}' may use only: ${may}\n")
      elseif(NOT target STREQUAL layer)
        string(MAKE_C_IDENTIFIER "${target}" tid)
        set(used_${id}__${tid} 1)
      endif()
    endif()
  endforeach()
endforeach()

# A declared use that no include makes is a link the code does not have: the table must say less.
foreach(layer IN LISTS layers)
  string(MAKE_C_IDENTIFIER "${layer}" id)
  string(REPLACE "," ";" allowed "${USES_${id}}")
  foreach(use IN LISTS allowed)
    string(MAKE_C_IDENTIFIER "${use}" uid)
    if(NOT used_${id}__${uid})
      string(APPEND problems "  layer '${layer}' declares that it USES '${use}', but none of its files includes a header of '${use}': remove it from its fizzhost_layer()\n")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "layer check: includes against the layer order (core/CMakeLists.txt, README \"Layout\"):\n${problems}")
endif()
list(LENGTH files count)
list(LENGTH layers nlayers)
message(STATUS "layer check: ${count} files in ${nlayers} layers, ${checked} includes of layer headers, all in order")
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
