# ofn_add_function(<target> SOURCES <file>... [LIBRARIES <lib>...])
#
# Builds a function server executable from one or more source files that
# register functions with OFN_REGISTER. Works in-tree and from an installed
# package (find_package(ofn)).
function(ofn_add_function target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "ofn_add_function(${target}): SOURCES is required")
  endif()
  add_executable(${target} ${ARG_SOURCES})
  if(TARGET ofn::ofn_main)
    target_link_libraries(${target} PRIVATE ofn::ofn_main ofn::ofn ${ARG_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE ofn_main ofn ${ARG_LIBRARIES})
  endif()
endfunction()
