# `cmake --install build --prefix P`: the host, the shipped plugins, the SDK headers (C++ plugin
# interface and BPF side) and a CMake package, so that an out-of-tree plugin is
#     find_package(fizzhost REQUIRED)
#     fizzhost_add_plugin(NAME VERSION x.y.z BPF x.bpf.c SOURCES decoder.cpp)
# exactly as the plugins in this tree are built.
include(CMakePackageConfigHelpers)

install(TARGETS fizzplugin_fizz fizzplugin_fizzbuzz fizzplugin_fibonacci
        LIBRARY DESTINATION "${FIZZHOST_PLUGIN_INSTALL_DIR}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY core/include/fizzhost bpf/include/fizz DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

install(TARGETS fizzhost_sdk EXPORT fizzhostTargets)
install(EXPORT fizzhostTargets NAMESPACE fizzhost:: DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}")
configure_package_config_file(cmake/fizzhostConfig.cmake.in "${CMAKE_BINARY_DIR}/fizzhostConfig.cmake"
  INSTALL_DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR FIZZHOST_PLUGIN_INSTALL_DIR)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/fizzhostConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES "${CMAKE_BINARY_DIR}/fizzhostConfig.cmake" "${CMAKE_BINARY_DIR}/fizzhostConfigVersion.cmake"
              cmake/FizzhostPlugin.cmake
        DESTINATION "${FIZZHOST_CMAKE_INSTALL_DIR}")
