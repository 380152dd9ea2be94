# `cpack -G DEB` (from the build folder): two Debian packages from this install.
#   fizzhost      the host, the shipped plugins, the systemd unit, an example configuration (a conffile)
#   fizzhost-dev  the plugin SDK: C/C++ and BPF-side headers, the CMake package (fizzhost_add_plugin)
# The package installs under CMAKE_INSTALL_PREFIX, the paths the unit and the configuration were
# written with: configure with -DCMAKE_INSTALL_PREFIX=/usr for a distribution-style package
# (/usr/bin/fizzhost, /etc/fizzhost); the default /usr/local gives a package for /usr/local.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "fizzhost")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "fizzhost maintainers <fizzhost@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "XDP packet classifiers as plugins, swapped live with bpf_link_update")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
# Absolute destinations (/etc/fizzhost with the prefix /usr) go into the package too.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Library dependencies (libbpf, prometheus-cpp, libsystemd, ...) as dpkg-shlibdeps finds them.
find_program(FIZZHOST_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(FIZZHOST_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()

set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_NAME "fizzhost")
set(CPACK_DEBIAN_UNSPECIFIED_DESCRIPTION
    "The fizzhost daemon, the shipped classifier plugins (fizz, fizzbuzz, fibonacci), a systemd unit
(Type=notify, reduced capabilities) and an example configuration.")
set(conffiles "${PROJECT_BINARY_DIR}/packaging/deb/conffiles")
file(WRITE "${conffiles}" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/fizzhost/fizzhost.toml\n")
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_CONTROL_EXTRA "${conffiles}")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME "fizzhost-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE "all")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "fizzhost (= ${PROJECT_VERSION}), cmake (>= 3.20), clang, libbpf-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "Headers for the plugin interface (C ABI and C++ helper) and the BPF side, and the CMake package
that builds a plugin with find_package(fizzhost) and fizzhost_add_plugin().")

include(CPack)
