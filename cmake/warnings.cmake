# Warning flags for every ruxx-sync target, as one INTERFACE target (ruxx::warnings) that each
# component links PRIVATE. RUXX_WARNINGS_AS_ERRORS (default ON) turns them into errors.
add_library(ruxx_warnings INTERFACE)
add_library(ruxx::warnings ALIAS ruxx_warnings)
target_compile_options(ruxx_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(RUXX_WARNINGS_AS_ERRORS)
  target_compile_options(ruxx_warnings INTERFACE -Werror)
endif()
