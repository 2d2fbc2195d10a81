# Precompiled headers (COMPE_PCH, off by default): the heavy third-party headers and the standard
# headers most translation units include are parsed once per target (compe_core, compe_server,
# compe) instead of once per file. Sources still include what they use: tests/architecture checks
# the #include lines, which a precompiled header does not change, and a build without it (the
# default, and the sanitizer build) catches a missing include. docs/RELIABILITY.md ("Compile
# time") has what it saves.
option(COMPE_PCH "Precompile the heavy third-party and standard headers of compe's targets" OFF)

set(COMPE_PCH_HEADERS <algorithm> <cmath> <cstdint> <filesystem> <functional> <map> <memory>
    <optional> <span> <string> <string_view> <unordered_map> <vector> <fmt/format.h>
    <nlohmann/json.hpp>)

# compe_precompile_headers(TARGET [HEADER...]): the common set and the target's own heavy headers.
function(compe_precompile_headers target)
  if(COMPE_PCH)
    target_precompile_headers(${target} PRIVATE ${COMPE_PCH_HEADERS} ${ARGN})
  endif()
endfunction()

# ccache reuses objects compiled with a precompiled header only with this sloppiness (ccache's
# manual, "Precompiled headers").
if(COMPE_PCH AND CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
