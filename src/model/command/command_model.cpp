#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model/backends.hpp"

namespace compe::model {
namespace {
class CommandModel final : public Model {
 public:
  explicit CommandModel(const Info& info) : Model(info) {}
  FoldResult fit_predict(const FoldData&, const nlohmann::json&, const ProgressCallback&) override {
    fail(ErrorCode::kBackend, "command: not ready");
  }
};
}  // namespace
std::unique_ptr<Model> make_command(const Info& info) { return std::make_unique<CommandModel>(info); }
nlohmann::json command_default_params() { return {{"params", nlohmann::json::object()}}; }
std::vector<std::string> command_known_params() { return {"command", "params"}; }
}  // namespace compe::model
