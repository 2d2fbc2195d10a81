// NumPy's default argsort decides the order of equal scores in the reference; reproducing it
// keeps ties where the reference puts them.
#include <cstdint>
#include <span>
#include <vector>

#include "common/numpy_argsort.hpp"
#include "compe/detect.hpp"

namespace compe::detect {

void numpy_argsort(std::span<const double> values, std::vector<std::uint32_t>& order) {
  const std::size_t num = values.size();
  order.resize(num);
  for (std::size_t i = 0; i < num; ++i) order[i] = static_cast<std::uint32_t>(i);
  compe::numpy_argsort(values.data(), order.data(), num);
}

}  // namespace compe::detect
