# Compiler flags shared by every target. The baseline ISA is x86-64-v3 (AVX2, FMA, F16C): the
# binary must run on any AVX2 machine; wider ISAs live only in src/kernels/<isa>/ with their own
# flags and are chosen at run time.
add_compile_options(-Wall -Wextra)
if(DSMOE_WERROR)
  add_compile_options(-Werror)
endif()
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(DSMOE_ARCH_X86 ON)
  add_compile_options(-march=x86-64-v3)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(DSMOE_ARCH_ARM ON)
  add_compile_options(-march=armv8-a)
endif()
# Sanitizer builds compile at -O1 -g1 (after the build type's flags, so these win): about twice as
# fast to build as -O2 -g, and the reports still carry file and line.
if(DSMOE_SANITIZE OR DSMOE_TSAN)
  add_compile_options(-O1 -g1)
endif()
if(DSMOE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(DSMOE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
