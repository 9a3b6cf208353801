# nucseg_project_options(target): warnings (as errors) and sanitizers for nucseg's own code.
function(nucseg_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-unused-parameter)
  if(NUCSEG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(NUCSEG_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
