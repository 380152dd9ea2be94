# Configures a plugin project against an installed SDK and checks that the fizzhost package came from
# that install (and not from another fizzhost on the system).
#   cmake -DSOURCE_DIR= -DBINARY_DIR= -DGENERATOR= -DPREFIX= -DEXPECTED_PACKAGE_DIR=
#         -DPLUGIN_OUTPUT_DIRECTORY= [-DBUILD_TYPE=] [-DCXX_FLAGS=] -P configure_example.cmake
foreach(var SOURCE_DIR BINARY_DIR GENERATOR PREFIX EXPECTED_PACKAGE_DIR PLUGIN_OUTPUT_DIRECTORY)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "configure_example.cmake: -D${var}= is required")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR}
          -DCMAKE_PREFIX_PATH=${PREFIX}
          -DFIZZHOST_PLUGIN_OUTPUT_DIRECTORY=${PLUGIN_OUTPUT_DIRECTORY}
          -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
          "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring ${SOURCE_DIR} against ${PREFIX} failed (exit ${rc})")
endif()

file(STRINGS "${BINARY_DIR}/CMakeCache.txt" entry REGEX "^fizzhost_DIR:")
string(REGEX REPLACE "^fizzhost_DIR:[A-Z]+=" "" found "${entry}")
if(NOT found STREQUAL EXPECTED_PACKAGE_DIR)
  message(FATAL_ERROR "find_package(fizzhost) used '${found}', expected the fresh install '${EXPECTED_PACKAGE_DIR}'")
endif()
message(STATUS "fizzhost package: ${found}")
