# Runs `fizzhost classify` on the sources of EXPECTED_FILE (JSON lines {"src":...,"kind":...}) and
# fails unless it exits 0 and prints exactly those lines.
#   cmake -DFIZZHOST= -DPLUGIN= -DPLUGIN_DIR= -DEXPECTED_FILE= -P expect_classify.cmake
# BPF_PROG_TEST_RUN needs privilege: without it the test is skipped (prints "SKIPPED: needs
# privilege"), unless FIZZ_REQUIRE_PRIVILEGED=1, as with the Catch2 suite's requirePrivilege().
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

set(command ${FIZZHOST} classify --plugin ${PLUGIN} --plugin-dir ${PLUGIN_DIR} ${addresses})
string(REPLACE ";" " " shown "${command}")
execute_process(COMMAND ${command} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT uid STREQUAL "0" AND NOT "$ENV{FIZZ_REQUIRE_PRIVILEGED}" STREQUAL "1")
    message("SKIPPED: needs privilege (root) for BPF_PROG_TEST_RUN; set FIZZ_REQUIRE_PRIVILEGED=1 to "
            "make this a failure.\n${shown}\n${err}")
    return()
  endif()
  message(FATAL_ERROR "exit ${rc}: ${shown}\n${err}")
endif()
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "unexpected output of\n  ${shown}\n--- got\n${out}--- want\n${expected}--- stderr\n${err}")
endif()
message(STATUS "${shown}\n${out}")
