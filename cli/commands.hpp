#pragma once
// Each command group lives in its own file and registers itself here. No algorithms in cli/.

#include <CLI/CLI.hpp>

namespace compe::cli {


}  // namespace compe::cli
