# One static library per source folder ("layer"); a layer links only the layers below it
# (util -> quant -> format, kernels -> model -> runtime -> capi -> cli). The public `dsmoe`
# shared library and `dsmoe_static` are assembled from all layers' objects in src/CMakeLists.txt.
set(DSMOE_LAYERS "" CACHE INTERNAL "")

function(dsmoe_add_layer name)
  cmake_parse_arguments(L "" "DIR" "DEPS;EXTRA_SOURCES" ${ARGN})
  if(NOT L_DIR)
    set(L_DIR ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS ${L_DIR}/*.cpp ${L_DIR}/*.c)
  list(APPEND srcs ${L_EXTRA_SOURCES})
  if(NOT srcs)
    # An empty layer still exists as a target so that others can link it.
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cpp)
  endif()
  add_library(dsmoe_${name} STATIC ${srcs})
  target_include_directories(dsmoe_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_compile_definitions(dsmoe_${name} PUBLIC DSMOE_VERSION_STRING="${PROJECT_VERSION}")
  target_link_libraries(dsmoe_${name} PUBLIC ${L_DEPS})
  set(DSMOE_LAYERS ${DSMOE_LAYERS} dsmoe_${name} CACHE INTERNAL "")
endfunction()
