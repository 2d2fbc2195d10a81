// The OOF importer: a teammate's folder (oof.csv, test.csv and meta.json, split by "\n@@\n")
// validated against a small workspace made once per process.
#include "compe/blend.hpp"
#include "compe/folds.hpp"
#include "compe/workspace.hpp"
#include "fuzz_util.hpp"

namespace {

const compe::blend::Reference& reference() {
  static const compe::blend::Reference ref = [] {
    using namespace compe;
    const auto data = fuzz::scratch() / "data";
    std::string train = "id,f,y\n", test = "id,f\n", sample = "id,y\n";
    for (int i = 0; i < 20; ++i) train += fmt::format("{},{},{}\n", i, i * 0.5, i % 2);
    for (int i = 20; i < 26; ++i) {
      test += fmt::format("{},{}\n", i, i * 0.5);
      sample += fmt::format("{},0.5\n", i);
    }
    write_file_atomic(data / "train.csv", train);
    write_file_atomic(data / "test.csv", test);
    write_file_atomic(data / "sample_submission.csv", sample);
    InitOptions o;
    o.dir = fuzz::scratch() / "ws";
    o.from = data;
    o.force = true;
    init_workspace(o);
    Workspace ws = Workspace::open(o.dir);
    FoldAssignment a = make_folds(ws.read_train(), ws.config(), ws.config().folds);
    write_folds(ws.folds_path(), a);
    return blend::reference_from_workspace(ws);
  }();
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace compe;
  const blend::Reference& ref = reference();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto files = fuzz::parts(text);
  const auto dir = fuzz::scratch() / "mate";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  fuzz::as_file("mate/oof.csv", files[0]);
  std::string test = "id,y\n";
  for (int i = 20; i < 26; ++i) test += fmt::format("{},0.25\n", i);
  fuzz::as_file("mate/test.csv", files.size() > 1 ? files[1] : std::string_view(test));
  if (files.size() > 2) fuzz::as_file("mate/meta.json", files[2]);
  for (bool different : {false, true})
    fuzz::expect_clean([&] { (void)blend::load_member(ref, "mate", dir, {.allow_different_folds = different}); });
  return 0;
}
