# cmake -DCOMMAND="a;b;c" -DEXPECTED="line1\nline2\n" -P run_and_compare.cmake
# Runs COMMAND; fails unless it exits 0 and its stdout is exactly EXPECTED.
execute_process(COMMAND ${COMMAND} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit ${rc}: ${COMMAND}\n${err}")
endif()
string(REPLACE "\\n" "\n" want "${EXPECTED}")
if(NOT out STREQUAL want)
  message(FATAL_ERROR "unexpected output of ${COMMAND}\n--- got\n${out}--- want\n${want}--- stderr\n${err}")
endif()
message(STATUS "output as expected:\n${out}")
