# Only the logging facade's two sources may include spdlog or fmt: every other file can end up
# in a translation unit with a LibTorch that carries its own fmt (torch 2.x), where Debian's
# spdlog would meet torch's fmt headers and fail to build.
cmake_minimum_required(VERSION 3.18)
file(GLOB_RECURSE files ${SOURCE_DIR}/lib/*.hpp ${SOURCE_DIR}/lib/*.cpp ${SOURCE_DIR}/tools/*.hpp
     ${SOURCE_DIR}/tools/*.cpp ${SOURCE_DIR}/tests/*.hpp ${SOURCE_DIR}/tests/*.cpp)
set(allowed ${SOURCE_DIR}/lib/common/log.cpp ${SOURCE_DIR}/lib/common/format.cpp)
set(offenders)
foreach(f IN LISTS files)
  if(f IN_LIST allowed)
    continue()
  endif()
  file(STRINGS ${f} hits REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](spdlog|fmt)/")
  if(hits)
    list(APPEND offenders ${f})
  endif()
endforeach()
if(offenders)
  list(JOIN offenders "\n  " text)
  message(FATAL_ERROR "spdlog/fmt included outside lib/common/log.cpp and format.cpp:\n  ${text}")
endif()
list(LENGTH files n)
message(STATUS "fmt and spdlog stay inside the logging facade: ${n} files checked")
