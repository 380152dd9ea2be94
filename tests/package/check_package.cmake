# The Debian packages as a user gets them: `cpack -G DEB` builds them from the build folder,
# dpkg-deb must accept them (-I) and list what they ship (-c), and the host extracted into a
# scratch root (-x) runs from there and lists the plugins extracted beside it.
# Inputs: -DBINARY_DIR (the build folder) -DWORK_DIR (scratch) -DPREFIX (CMAKE_INSTALL_PREFIX)
#         -DLIBDIR -DLIBEXECDIR -DSYSCONF_FILE (the configuration's absolute path) -DVERSION
foreach(var BINARY_DIR WORK_DIR PREFIX LIBDIR LIBEXECDIR SYSCONF_FILE VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_package.cmake: -D${var}= is required")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

function(expect text what)
  foreach(needle ${ARGN})
    string(FIND "${text}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${what}: missing '${needle}' in:\n${text}")
    endif()
  endforeach()
endfunction()

function(refuse text what)
  foreach(needle ${ARGN})
    string(FIND "${text}" "${needle}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${what}: unexpected '${needle}' in:\n${text}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/root")
execute_process(COMMAND cpack -G DEB --config "${BINARY_DIR}/CPackConfig.cmake"
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cpack -G DEB failed (${rc}):\n${out}\n${err}")
endif()
set(host_deb "${WORK_DIR}/fizzhost_${VERSION}_amd64.deb")
set(dev_deb "${WORK_DIR}/fizzhost-dev_${VERSION}_all.deb")
foreach(deb "${host_deb}" "${dev_deb}")
  if(NOT EXISTS "${deb}")
    file(GLOB made "${WORK_DIR}/*.deb")
    message(FATAL_ERROR "cpack made no ${deb}; it made: ${made}")
  endif()
endforeach()

# The control data dpkg reads.
run(dpkg-deb -I "${host_deb}")
expect("${out}" "fizzhost -I" "Package: fizzhost\n" "Version: ${VERSION}\n" "Architecture: amd64\n"
       "libbpf1" "libprometheus-cpp-core" "libsystemd0" "libssl3" "libyaml-0-2" "libcrypt1" " conffiles")
run(dpkg-deb -I "${host_deb}" conffiles)
expect("${out}" "fizzhost conffiles" "${SYSCONF_FILE}\n")
run(dpkg-deb -I "${dev_deb}")
expect("${out}" "fizzhost-dev -I" "Package: fizzhost-dev\n" "Depends: fizzhost (= ${VERSION})")

# The files: the host, its plugins, the unit and the configuration in one; the SDK in the other.
set(p ".${PREFIX}")
run(dpkg-deb -c "${host_deb}")
set(host_files "${out}")
expect("${host_files}" "fizzhost -c" "${p}/bin/fizzhost\n" "${p}/${LIBEXECDIR}/fizzhost/fizzhost-decoder\n"
       "${p}/${LIBDIR}/fizzhost/plugins/fizz.so\n"
       "${p}/${LIBDIR}/fizzhost/plugins/fizzbuzz.so\n" "${p}/${LIBDIR}/fizzhost/plugins/fibonacci.so\n"
       "${p}/lib/systemd/system/fizzhost.service\n" ".${SYSCONF_FILE}\n" "${p}/share/doc/fizzhost/README.md\n")
refuse("${host_files}" "fizzhost -c" "/include/" "/cmake/fizzhost/")
run(dpkg-deb -c "${dev_deb}")
expect("${out}" "fizzhost-dev -c" "${p}/include/fizzhost/plugin.hpp\n" "${p}/include/fizzhost/plugin_abi.h\n"
       "${p}/include/fizz/classifier.h\n" "${p}/${LIBDIR}/cmake/fizzhost/fizzhostConfig.cmake\n"
       "${p}/${LIBDIR}/cmake/fizzhost/FizzhostPlugin.cmake\n" "${p}/${LIBDIR}/cmake/fizzhost/fizzhostTargets.cmake\n")
refuse("${out}" "fizzhost-dev -c" "/bin/fizzhost\n" ".so\n")
# Plugins must not be writable by group or others: the host refuses such files as root.
string(REGEX MATCHALL "[-rwx]+ [^\n]*plugins/[a-z]+\\.so" plugin_lines "${host_files}")
foreach(line ${plugin_lines})
  if(NOT line MATCHES "^-rw-r--r-- ")
    message(FATAL_ERROR "plugin mode in the package: ${line}")
  endif()
endforeach()

# Extracted into a scratch root, the host runs and lists the plugins shipped beside it.
set(root "${WORK_DIR}/root")
run(dpkg-deb -x "${host_deb}" "${root}")
run(dpkg-deb -x "${dev_deb}" "${root}")
run("${root}${PREFIX}/bin/fizzhost" plugins --plugin-dir "${root}${PREFIX}/${LIBDIR}/fizzhost/plugins")
expect("${out}" "fizzhost plugins from the package" "fizz " "fizzbuzz " "fibonacci ")
# The unit names the packaged paths and systemd accepts it.
file(READ "${root}${PREFIX}/lib/systemd/system/fizzhost.service" unit)
expect("${unit}" "unit" "ExecStart=${PREFIX}/bin/fizzhost --config ${SYSCONF_FILE}\n" "Type=notify\n"
       "StateDirectory=fizzhost\n" "CAP_SYS_CHROOT CAP_SETUID CAP_SETGID CAP_KILL\n")
file(READ "${root}${SYSCONF_FILE}" example)
expect("${example}" "example configuration" "[metrics]" "[interface.eth0]")
message(STATUS "packages OK: ${host_deb} ${dev_deb}")
