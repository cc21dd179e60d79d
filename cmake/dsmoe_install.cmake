# `cmake --install`: the shared library (versioned SONAME), the public headers, a CMake package
# (find_package(dsmoe) -> dsmoe::dsmoe) and a pkg-config file (dsmoe.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Export only the C API (dsmoe_*) from the shared library: the C++ internals and the standard
# library's template instances stay private, so the ABI is exactly what dsmoe.h declares.
target_link_options(dsmoe PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/src/capi/dsmoe.map)
set_property(TARGET dsmoe APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/src/capi/dsmoe.map)
set_target_properties(dsmoe PROPERTIES EXPORT_NAME dsmoe)

install(TARGETS dsmoe EXPORT dsmoeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/dsmoe/dsmoe.h ${PROJECT_SOURCE_DIR}/include/dsmoe/dsmoe.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dsmoe)

set(dsmoe_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dsmoe)
install(EXPORT dsmoeTargets NAMESPACE dsmoe:: DESTINATION ${dsmoe_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dsmoeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dsmoeConfig.cmake INSTALL_DESTINATION ${dsmoe_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dsmoeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dsmoeConfig.cmake ${PROJECT_BINARY_DIR}/dsmoeConfigVersion.cmake
  DESTINATION ${dsmoe_cmake_dir})

# pkg-config wants absolute paths, so the file is configured at install time, when the prefix
# (possibly given with `cmake --install --prefix`) is known.
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/dsmoe.pc.in\" \"${PROJECT_BINARY_DIR}/dsmoe.pc\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/dsmoe.pc\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")")
