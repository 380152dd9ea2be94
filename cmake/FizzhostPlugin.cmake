# fizzhost_add_bpf_object() and fizzhost_add_plugin(): the one way to build a classifier plugin,
# used by the plugins in this tree and, once installed, by third-party projects (find_package).
#
# Expects the target fizzhost::sdk (include dirs of the C++ plugin interface and of the BPF-side
# headers) and FIZZHOST_BPF_INCLUDE_DIR (the BPF-side headers) to exist; fizzhostConfig.cmake sets
# them up for an installed SDK. Optional: FIZZHOST_PLUGIN_OUTPUT_DIRECTORY (where modules land when
# no OUTPUT_DIRECTORY is given; default: the current binary dir) and FIZZHOST_PLUGIN_INSTALL_DIR
# (where INSTALL puts them; an installed SDK points it at its host's plugin folder).

include_guard(GLOBAL)

find_program(FIZZHOST_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)

# Multiarch directory with <asm/types.h>, which linux/types.h pulls in for the BPF target.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE FIZZHOST_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT FIZZHOST_MULTIARCH)
  set(FIZZHOST_MULTIARCH "${CMAKE_SYSTEM_PROCESSOR}-linux-gnu")
endif()

# fizzhost_add_bpf_object(<out-var> SOURCE <file.bpf.c> [NAME <name>] [INCLUDES dir...] [DEFINES X=Y...])
# Compiles one BPF C file with clang -O2 -g -target bpf into <name>.bpf.o (default: the source's
# stem); <out-var> receives the object's path. INCLUDES reach clang only (relative ones are taken
# from the current source folder); the source's own folder is always searched.
function(fizzhost_add_bpf_object out_var)
  cmake_parse_arguments(ARG "" "SOURCE;NAME" "INCLUDES;DEFINES" ${ARGN})
  get_filename_component(src "${ARG_SOURCE}" ABSOLUTE)
  get_filename_component(stem "${src}" NAME_WE)
  if(ARG_NAME)
    set(stem "${ARG_NAME}")
  endif()
  set(obj "${CMAKE_CURRENT_BINARY_DIR}/${stem}.bpf.o")
  set(flags -O2 -g -target bpf -Wall -Wno-unused-function
            -I${FIZZHOST_BPF_INCLUDE_DIR} -I/usr/include/${FIZZHOST_MULTIARCH})
  # A relative folder is the caller's source folder's, as with target_include_directories (clang
  # runs in the build folder, where a relative -I would point).
  foreach(dir IN LISTS ARG_INCLUDES)
    get_filename_component(dir "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND flags -I${dir})
  endforeach()
  foreach(def IN LISTS ARG_DEFINES)
    list(APPEND flags -D${def})
  endforeach()
  get_filename_component(src_dir "${src}" DIRECTORY)
  file(GLOB sdk_headers "${FIZZHOST_BPF_INCLUDE_DIR}/fizz/*.h")
  add_custom_command(
    OUTPUT "${obj}"
    COMMAND ${FIZZHOST_CLANG} ${flags} -I${src_dir} -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
    DEPENDS "${src}" ${sdk_headers}
    DEPFILE "${obj}.d"
    COMMENT "BPF ${stem}.bpf.o"
    VERBATIM)
  set(${out_var} "${obj}" PARENT_SCOPE)
endfunction()

# fizzhost_embed_object(<target> <object> [SYMBOL <sym>]) adds <object> to <target> as the hidden
# symbols <sym> / <sym>_end (default fizzhost_embedded_object), so a module and its BPF program can
# never be separated or mismatched.
function(fizzhost_embed_object target obj)
  cmake_parse_arguments(ARG "" "SYMBOL" "" ${ARGN})
  set(sym fizzhost_embedded_object)
  if(ARG_SYMBOL)
    set(sym ${ARG_SYMBOL})
  endif()
  set(asm "${CMAKE_CURRENT_BINARY_DIR}/${target}_${sym}.S")
  file(WRITE "${asm}.in"
"    .section .fizzhost.bpf,\"a\",@progbits
    .balign 8
    .globl ${sym}
    .hidden ${sym}
    .type ${sym}, @object
${sym}:
    .incbin \"${obj}\"
    .globl ${sym}_end
    .hidden ${sym}_end
${sym}_end:
    .byte 0
    .section .note.GNU-stack,\"\",@progbits
")
  configure_file("${asm}.in" "${asm}" COPYONLY)
  set_source_files_properties("${asm}" PROPERTIES OBJECT_DEPENDS "${obj}" LANGUAGE ASM)
  target_sources(${target} PRIVATE "${asm}")
endfunction()

# fizzhost_add_plugin(<name> VERSION <semver> BPF <file.bpf.c> SOURCES <decoder.cpp>...
#                     [BPF_DEFINES X=Y...] [BPF_INCLUDES dir...] [OUTPUT_DIRECTORY dir]
#                     [TARGET target-name] [INSTALL])
# Builds <name>.so: the decoder sources with the BPF object embedded. The plugin name and version
# reach the descriptor through FIZZHOST_PLUGIN_NAME / FIZZHOST_PLUGIN_VERSION.
function(fizzhost_add_plugin name)
  cmake_parse_arguments(ARG "INSTALL" "VERSION;BPF;OUTPUT_DIRECTORY;TARGET" "SOURCES;BPF_DEFINES;BPF_INCLUDES" ${ARGN})
  if(NOT ARG_VERSION OR NOT ARG_BPF OR NOT ARG_SOURCES)
    message(FATAL_ERROR "fizzhost_add_plugin(${name}): VERSION, BPF and SOURCES are required")
  endif()
  if(NOT ARG_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "fizzhost_add_plugin(${name}): VERSION '${ARG_VERSION}' is not semver")
  endif()
  set(target "fizzplugin_${name}")
  if(ARG_TARGET)
    set(target "${ARG_TARGET}")
  endif()
  fizzhost_add_bpf_object(obj SOURCE "${ARG_BPF}" NAME "${target}" DEFINES ${ARG_BPF_DEFINES} INCLUDES ${ARG_BPF_INCLUDES})
  add_library(${target} MODULE ${ARG_SOURCES})
  fizzhost_embed_object(${target} "${obj}")
  target_link_libraries(${target} PRIVATE fizzhost::sdk)
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_compile_definitions(${target} PRIVATE
    FIZZHOST_PLUGIN_NAME="${name}" FIZZHOST_PLUGIN_VERSION="${ARG_VERSION}")
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "${name}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED FIZZHOST_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${FIZZHOST_PLUGIN_OUTPUT_DIRECTORY}")
  endif()
  if(ARG_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${FIZZHOST_PLUGIN_INSTALL_DIR}"
            PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endfunction()
