# AddressSanitizer + UndefinedBehaviorSanitizer as an INTERFACE target (ruxx::sanitizers).
# Enabled with -DRUXX_SANITIZE=ON; every ruxx-sync target links it, so the whole build (library,
# binaries and tests) is instrumented consistently.
add_library(ruxx_sanitizers INTERFACE)
add_library(ruxx::sanitizers ALIAS ruxx_sanitizers)
if(RUXX_SANITIZE)
  set(_ruxx_san_flags -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  target_compile_options(ruxx_sanitizers INTERFACE ${_ruxx_san_flags})
  target_link_options(ruxx_sanitizers INTERFACE ${_ruxx_san_flags})
endif()
