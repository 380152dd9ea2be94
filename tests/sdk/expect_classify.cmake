# Runs `fizzhost classify` on the sources of EXPECTED_FILE (JSON lines {"src":...,"kind":...}) and
# fails unless it exits 0 and prints exactly those lines.
#   cmake -DFIZZHOST= -DPLUGIN= -DPLUGIN_DIR= -DEXPECTED_FILE= [-DCLASSIFY_ARGS="--ttl 9 ..."] -P expect_classify.cmake
# CLASSIFY_ARGS: more options for classify (frame shaping), separated by spaces.
# BPF_PROG_TEST_RUN needs privilege: without it the test is skipped (prints "SKIPPED: needs
# privilege"), unless FIZZ_REQUIRE_PRIVILEGED=1, as with the Catch2 suite's requirePrivilege().
# Privilege is judged as tests/support/privilege.cpp does, by the effective capabilities (this
# process's, which the host it starts inherits), not by uid: root in a container without
# CAP_SYS_ADMIN cannot run it, a non-root runner granted the capabilities can.
foreach(var FIZZHOST PLUGIN PLUGIN_DIR EXPECTED_FILE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_classify.cmake: -D${var}= is required")
  endif()
endforeach()

file(STRINGS "${EXPECTED_FILE}" expected_lines)
set(addresses "")
set(expected "")
foreach(line IN LISTS expected_lines)
  string(JSON src GET "${line}" src)
  list(APPEND addresses "${src}")
  string(APPEND expected "${line}\n")
endforeach()
if(NOT addresses)
  message(FATAL_ERROR "${EXPECTED_FILE} lists no sources")
endif()

separate_arguments(extra_args UNIX_COMMAND "${CLASSIFY_ARGS}")
# "--" ends the options: a repeatable option such as --vlan would take the addresses as its values.
set(command ${FIZZHOST} classify --plugin ${PLUGIN} --plugin-dir ${PLUGIN_DIR} ${extra_args} -- ${addresses})
string(REPLACE ";" " " shown "${command}")
execute_process(COMMAND ${command} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
# CapEff from /proc/self/status: CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21), or CAP_BPF (39) with
# CAP_PERFMON (38).
file(STRINGS /proc/self/status cap_line REGEX "^CapEff:")
string(REGEX REPLACE "^CapEff:[ \t]*" "" cap_hex "${cap_line}")
math(EXPR net_admin "(0x${cap_hex} >> 12) & 1")
math(EXPR sys_admin "(0x${cap_hex} >> 21) & 1")
math(EXPR bpf_perfmon "((0x${cap_hex} >> 39) & 1) & ((0x${cap_hex} >> 38) & 1)")
set(privileged FALSE)
if(net_admin AND (sys_admin OR bpf_perfmon))
  set(privileged TRUE)
endif()
if(NOT rc EQUAL 0)
  if(NOT privileged AND NOT "$ENV{FIZZ_REQUIRE_PRIVILEGED}" STREQUAL "1")
    message("SKIPPED: needs privilege (CAP_NET_ADMIN with CAP_SYS_ADMIN, or with CAP_BPF+CAP_PERFMON; "
            "effective: 0x${cap_hex}) for BPF_PROG_TEST_RUN; set FIZZ_REQUIRE_PRIVILEGED=1 to make this a "
            "failure.\n${shown}\n${err}")
    return()
  endif()
  message(FATAL_ERROR "exit ${rc}: ${shown}\n${err}")
endif()
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "unexpected output of\n  ${shown}\n--- got\n${out}--- want\n${expected}--- stderr\n${err}")
endif()
message(STATUS "${shown}\n${out}")
