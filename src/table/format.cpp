#include <cmath>

#include <fmt/format.h>

#include "compe/table.hpp"

namespace compe {

std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // fmt's default formatting is the shortest representation that round-trips (Dragonbox).
  return fmt::format("{}", v);
}

}  // namespace compe
