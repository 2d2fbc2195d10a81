#include "server/api_shake.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

#include "compe/error.hpp"
#include "compe/shake.hpp"
#include "compe/workspace.hpp"

namespace compe::server {
namespace {

std::string param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? "" : it->second;
}

double number(const Params& p, const std::string& name, double lo, double hi, bool open, double fallback) {
  std::string v = param(p, name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  bool ok = end && *end == '\0' && (open ? (x > lo && x < hi) : (x >= lo && x <= hi));
  if (!ok)
    fail(ErrorCode::kInvalidArgument, "{}={}: expected a number {} {} and {}", name, v,
         open ? "strictly between" : "from", lo, hi);
  return x;
}

}  // namespace

nlohmann::json shake_json(Store& store, const std::filesystem::path& root, const Params& params) {
  std::vector<std::string> ids;
  std::string all = param(params, "ids");
  std::size_t start = 0;
  while (start <= all.size()) {
    std::size_t comma = all.find(',', start);
    if (comma == std::string::npos) comma = all.size();
    std::string id = all.substr(start, comma - start);
    if (!id.empty()) {
      for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)))
          fail(ErrorCode::kInvalidArgument, "ids: {} is not a run id (letters and digits)", quote(id));
      ids.push_back(id);
    }
    start = comma + 1;
  }
  if (ids.empty() || ids.size() > 20)
    fail(ErrorCode::kInvalidArgument, "ids: expected 1 to 20 comma-separated run ids, got {}", ids.size());
  std::string source = param(params, "source");
  if (!source.empty() && source != "oof" && source != "solution")
    fail(ErrorCode::kInvalidArgument, "source={}: expected solution or oof", source);
  Workspace ws = Workspace::open(root);
  shake::LoadOptions lo;
  lo.use_solution = source != "oof";
  shake::Loaded loaded = shake::load_candidates(ws, ids, lo, &store);
  shake::Options o;
  o.mode = loaded.mode;
  o.public_fraction = number(params, "public_fraction", 0, 1, true, loaded.public_fraction.value_or(0.3));
  o.simulations = static_cast<std::size_t>(number(params, "simulations", 1, 5000, false, 1000));
  o.seed = static_cast<std::uint64_t>(number(params, "seed", 0, 1e15, false, 42));
  o.test_rows = loaded.test_rows;
  return shake::to_json(shake::simulate(loaded.problem, o));
}

}  // namespace compe::server
