# nucseg_project_options(target): warnings (as errors) and sanitizers for nucseg's own code.
function(nucseg_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-unused-parameter)
  # GCC 12 in C++20 mode reports -Wrestrict, -Wstringop-overflow and -Warray-bounds on libstdc++'s own
  # std::string copies (GCC bug 105329), which are no errors of this code.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND CMAKE_CXX_STANDARD GREATER_EQUAL 20)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-stringop-overflow -Wno-array-bounds)
  endif()
  if(NUCSEG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(NUCSEG_SANITIZE)
    # pointer-overflow stays recoverable so that tests/sanitizer/ubsan.supp can silence ITK's
    # own headers (GCC has no compile-time ignore list); halt_on_error still fails on ours.
    # GCC's flow analysis under -fsanitize reports false maybe-uninitialized warnings in
    # libstdc++ (std::regex, std::function); they are not errors of this code.
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(NUCSEG_FUZZ)
    # Coverage instrumentation for libFuzzer; only the fuzz targets link libFuzzer itself.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
