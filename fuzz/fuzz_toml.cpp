// TOML configs: compe.toml (competition, folds, select policy) and experiment files.
#include "compe/run.hpp"
#include "compe/workspace.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace compe;
  fuzz::expect_clean([&] {
    CompetitionConfig c = parse_competition_config(text, "compe.toml");
    // What compe writes back must read back.
    CompetitionConfig again = parse_competition_config(render_competition_config(c), "rendered.toml");
    if (again.metric != c.metric || again.id_column != c.id_column) __builtin_trap();
  });
  fuzz::expect_clean([&] { (void)run::parse_experiment(text, "experiments/x.toml"); });
  return 0;
}
