# `cmake --install build --prefix P`: the host, the shipped plugins, the SDK headers (C++ plugin
# interface and BPF side) and a CMake package, so that an out-of-tree plugin is
#     find_package(fizzhost REQUIRED)
#     fizzhost_add_plugin(NAME VERSION x.y.z BPF x.bpf.c SOURCES decoder.cpp)
# exactly as the plugins in this tree are built (examples/fibonacci-naive, docs/writing-a-plugin.md).
include(CMakePackageConfigHelpers)

# Running as root, the host refuses plugin files and folders (and their parents) that group or
# others can write. Spell the modes out so a umask such as 002 cannot make a fresh install unusable.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(fizzhost_file_permissions OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The fizzhost binary installs itself (core/CMakeLists.txt).
install(TARGETS fizzplugin_fizz fizzplugin_fizzbuzz fizzplugin_fibonacci
        LIBRARY DESTINATION "${FIZZHOST_PLUGIN_INSTALL_DIR}" PERMISSIONS ${fizzhost_file_permissions})

install(DIRECTORY "${PROJECT_SOURCE_DIR}/core/include/fizzhost" "${PROJECT_SOURCE_DIR}/bpf/include/fizz"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT dev
        FILE_PERMISSIONS ${fizzhost_file_permissions}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# The package: fizzhost::sdk (include dirs), fizzhost_add_plugin() and the paths it needs.
install(TARGETS fizzhost_sdk EXPORT fizzhostTargets COMPONENT dev)
install(EXPORT fizzhostTargets NAMESPACE fizzhost:: DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}" COMPONENT dev
        PERMISSIONS ${fizzhost_file_permissions})
set(FIZZHOST_BPF_INCLUDE_INSTALL_DIR "${CMAKE_INSTALL_INCLUDEDIR}")
set(FIZZHOST_EXECUTABLE_INSTALL_PATH "${CMAKE_INSTALL_BINDIR}/fizzhost")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/fizzhostConfig.cmake.in" "${PROJECT_BINARY_DIR}/fizzhostConfig.cmake"
  INSTALL_DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}"
  PATH_VARS FIZZHOST_BPF_INCLUDE_INSTALL_DIR FIZZHOST_PLUGIN_INSTALL_DIR FIZZHOST_EXECUTABLE_INSTALL_PATH)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fizzhostConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/fizzhostConfig.cmake" "${PROJECT_BINARY_DIR}/fizzhostConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FizzhostPlugin.cmake"
        DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}" COMPONENT dev PERMISSIONS ${fizzhost_file_permissions})

# The service: the systemd unit and an example configuration, with this install's paths filled in.
# With the prefix /usr (a distribution package) the configuration goes to /etc, else under the prefix.
if(IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}" OR CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(fizzhost_sysconf_destination "${CMAKE_INSTALL_FULL_SYSCONFDIR}/fizzhost")
else()
  set(fizzhost_sysconf_destination "${CMAKE_INSTALL_SYSCONFDIR}/fizzhost")
endif()
set(FIZZHOST_EXECUTABLE "${CMAKE_INSTALL_FULL_BINDIR}/fizzhost")
set(FIZZHOST_CONFIG_FILE "${CMAKE_INSTALL_FULL_SYSCONFDIR}/fizzhost/fizzhost.toml")
set(FIZZHOST_DOC_DIR "${CMAKE_INSTALL_FULL_DOCDIR}")
set(FIZZHOST_PLUGIN_DIR "${CMAKE_INSTALL_PREFIX}/${FIZZHOST_PLUGIN_INSTALL_DIR}")
configure_file("${PROJECT_SOURCE_DIR}/packaging/systemd/fizzhost.service.in" "${PROJECT_BINARY_DIR}/packaging/fizzhost.service" @ONLY)
configure_file("${PROJECT_SOURCE_DIR}/packaging/fizzhost.toml.in" "${PROJECT_BINARY_DIR}/packaging/fizzhost.toml" @ONLY)
# lib/systemd/system under the prefix: /usr/lib/systemd/system for a package, and systemd also
# searches /usr/local/lib/systemd/system.
install(FILES "${PROJECT_BINARY_DIR}/packaging/fizzhost.service" DESTINATION "lib/systemd/system"
        PERMISSIONS ${fizzhost_file_permissions})
install(FILES "${PROJECT_BINARY_DIR}/packaging/fizzhost.toml" DESTINATION "${fizzhost_sysconf_destination}"
        PERMISSIONS ${fizzhost_file_permissions})
install(FILES "${PROJECT_SOURCE_DIR}/README.md"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" PERMISSIONS ${fizzhost_file_permissions} OPTIONAL)
# The README's map links into docs/: the same layout beside it.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
        FILE_PERMISSIONS ${fizzhost_file_permissions} FILES_MATCHING PATTERN "*.md")

include("${PROJECT_SOURCE_DIR}/cmake/Package.cmake" OPTIONAL)
