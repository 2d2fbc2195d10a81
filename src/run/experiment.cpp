#include <algorithm>

#include <toml++/toml.h>

#include "common/toml_util.hpp"

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/pseudo.hpp"
#include "compe/run.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace {

nlohmann::json to_json(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto i = n.value_exact<std::int64_t>()) return *i;
  if (auto d = n.value_exact<double>()) return *d;
  if (auto b = n.value_exact<bool>()) return *b;
  if (const auto* arr = n.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *arr) out.push_back(to_json(e));
    return out;
  }
  if (const auto* t = n.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = to_json(v);
    return out;
  }
  return nullptr;
}

std::vector<std::string> strings(const toml::table& t, std::string_view key, const std::string& path,
                                 std::string_view display) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be a list of column names", display, n->source().begin.line, quote(path));
  for (const auto& e : *arr) {
    auto s = e.value_exact<std::string>();
    if (!s) fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be a list of column names", display, n->source().begin.line, quote(path));
    out.push_back(*s);
  }
  return out;
}

// A TOML value as a message shows it.
std::string shown(const toml::node& e) {
  if (auto s = e.value_exact<std::string>()) return quote(*s);
  if (auto d = e.value_exact<double>()) return format_double(*d);
  if (auto i = e.value_exact<std::int64_t>()) return std::to_string(*i);
  if (auto b = e.value_exact<bool>()) return *b ? "true" : "false";
  return e.is_array() ? "a list" : "a table";
}

// [run] seeds: a non-empty list of distinct integers >= 0.
std::vector<std::uint64_t> seed_list(const toml::table& r, std::string_view display) {
  std::vector<std::uint64_t> out;
  const toml::node* n = r.get("seeds");
  if (!n) return out;
  const toml::array* arr = n->as_array();
  const auto line = n->source().begin.line;
  if (!arr || arr->empty())
    fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.seeds' must be a non-empty list of integer seeds >= 0, e.g. [1, 2, 3]",
         display, line);
  for (const auto& e : *arr) {
    auto v = e.value_exact<std::int64_t>();
    if (!v || *v < 0)
      fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.seeds' holds {}, expected integer seeds >= 0", display, line,
           shown(e));
    if (std::find(out.begin(), out.end(), static_cast<std::uint64_t>(*v)) != out.end())
      fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.seeds' lists {} twice, expected distinct seeds", display, line, *v);
    out.push_back(static_cast<std::uint64_t>(*v));
  }
  return out;
}

}  // namespace

nlohmann::json Experiment::to_json() const {
  nlohmann::json j = {{"name", name},
          {"parent", parent},
          {"model", {{"backend", backend}, {"params", params}}},
          {"features", {{"keep", keep}, {"drop", drop}, {"categorical", categorical},
                        {"target_transform", target_transform}}},
          {"run", {{"folds", folds}, {"seed", seed}, {"threads", threads}, {"parallel_folds", parallel_folds}}}};
  if (!pseudo.is_null()) j["pseudo"] = pseudo;
  // Written only when set, so that runs without them compare equal to older runs.
  if (encoding != "count") j["features"]["encoding"] = encoding;
  if (!target_encoding.empty()) j["features"]["target_encoding"] = target_encoding;
  if (!seeds.empty()) j["run"]["seeds"] = seeds;
  if (permutation_importance) j["run"]["permutation_importance"] = true;
  return j;
}

Experiment experiment_from_json(const nlohmann::json& c) {
  Experiment x;
  const JsonAt root(c, "the recorded run config");
  root.object();
  x.name = root.opt_string("name").value_or("");
  x.parent = root.opt_string("parent").value_or("");
  const JsonAt m = root.at("model", "the model's backend and params").object();
  x.backend = m.at("backend", "a model backend's name").string();
  if (auto p = m.find("params")) x.params = p->object().value();
  else x.params = nlohmann::json::object();
  auto ints = [](const JsonAt& list) {
    std::vector<int> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::int64_t v = list.at(i).integer();
      if (v < -1 || v > 1000000) list.at(i).expected("a fold number");
      out.push_back(static_cast<int>(v));
    }
    return out;
  };
  auto count = [](const JsonAt& v) {
    const std::int64_t n = v.integer();
    if (n < 0) v.expected("a count >= 0");
    return static_cast<std::size_t>(n);
  };
  if (auto f = root.find("features")) {
    f->object();
    if (auto v = f->find("keep")) x.keep = v->strings();
    if (auto v = f->find("drop")) x.drop = v->strings();
    if (auto v = f->find("categorical")) x.categorical = v->strings();
    x.target_transform = f->opt_string("target_transform").value_or("none");
    x.encoding = f->opt_string("encoding").value_or("count");
    if (auto v = f->find("target_encoding")) x.target_encoding = v->strings();
  }
  if (auto p = root.find("pseudo"); p && !p->value().is_null())
    x.pseudo = pseudo::Config::from_json(p->value(), "the recorded run config's pseudo").to_json();
  if (auto r = root.find("run")) {
    r->object();
    if (auto v = r->find("folds")) x.folds = ints(*v);
    if (auto v = r->find("seed")) {
      if (v->value().is_number_unsigned()) x.seed = v->value().get<std::uint64_t>();
      else x.seed = count(*v);
    }
    if (auto v = r->find("seeds"))
      for (std::size_t i = 0; i < v->size(); ++i) x.seeds.push_back(static_cast<std::uint64_t>(count(v->at(i))));
    if (auto v = r->find("permutation_importance")) x.permutation_importance = v->value().is_boolean() && v->value().get<bool>();
    if (auto v = r->find("threads")) x.threads = count(*v);
    if (auto v = r->find("parallel_folds")) x.parallel_folds = count(*v);
  }
  return x;
}

Experiment parse_experiment(std::string_view text, std::string_view display) {
  toml::table root = parse_toml(text, display);
  Experiment x;
  x.source = std::string(display);
  check_toml_keys(root, "", {"name", "parent", "model", "features", "run", "tune", "pseudo"}, display);
  auto str = [&](const toml::table& t, std::string_view key, const std::string& path) -> std::optional<std::string> {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    auto v = n->value_exact<std::string>();
    if (!v) fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be a string", display, n->source().begin.line, quote(path));
    return v;
  };
  auto table = [&](std::string_view key) -> const toml::table* {
    const toml::node* n = root.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(ErrorCode::kInvalidArgument, "{}:{}: {} must be a table", display, n->source().begin.line, quote(key));
    return n->as_table();
  };
  if (const toml::table* t = table("tune")) x.tune = to_json(*t);
  if (const toml::table* t = table("pseudo"))
    x.pseudo = pseudo::Config::from_json(to_json(*t), fmt::format("{}: [pseudo]", display)).to_json();
  x.name = str(root, "name", "name").value_or("");
  x.parent = str(root, "parent", "parent").value_or("");
  if (const toml::table* m = table("model")) {
    check_toml_keys(*m, "model.", {"backend", "params"}, display);
    x.backend = str(*m, "backend", "model.backend").value_or("xgboost");
    if (const toml::node* p = m->get("params")) {
      if (!p->is_table()) fail(ErrorCode::kInvalidArgument, "{}:{}: 'model.params' must be a table", display, p->source().begin.line);
      x.params = to_json(*p);
    }
  }
  if (const toml::table* f = table("features")) {
    check_toml_keys(*f, "features.", {"keep", "drop", "categorical", "target_transform", "encoding", "target_encoding"},
                    display);
    x.keep = strings(*f, "keep", "features.keep", display);
    x.drop = strings(*f, "drop", "features.drop", display);
    x.categorical = strings(*f, "categorical", "features.categorical", display);
    x.target_transform = str(*f, "target_transform", "features.target_transform").value_or("none");
    if (x.target_transform != "none" && x.target_transform != "log1p")
      fail(ErrorCode::kInvalidArgument, "{}: features.target_transform is {}, expected none or log1p", display,
           quote(x.target_transform));
    x.encoding = str(*f, "encoding", "features.encoding").value_or("count");
    if (x.encoding != "count" && x.encoding != "target")
      fail(ErrorCode::kInvalidArgument, "{}:{}: features.encoding is {}, expected \"count\" or \"target\"", display,
           f->get("encoding")->source().begin.line, quote(x.encoding));
    x.target_encoding = strings(*f, "target_encoding", "features.target_encoding", display);
    if (!x.keep.empty() && !x.drop.empty())
      fail(ErrorCode::kInvalidArgument, "{}: give features.keep or features.drop, not both", display);
  }
  if (const toml::table* r = table("run")) {
    check_toml_keys(*r, "run.", {"folds", "seed", "seeds", "threads", "parallel_folds", "permutation_importance"},
                    display);
    x.seeds = seed_list(*r, display);
    if (const toml::node* n = r->get("permutation_importance")) {
      auto v = n->value_exact<bool>();
      if (!v)
        fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.permutation_importance' must be true or false", display,
             n->source().begin.line);
      x.permutation_importance = *v;
    }
    if (const toml::node* n = r->get("folds")) {
      const toml::array* arr = n->as_array();
      if (!arr) fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.folds' must be a list of fold numbers", display, n->source().begin.line);
      for (const auto& e : *arr) {
        auto v = e.value_exact<std::int64_t>();
        if (!v || *v < 0) fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.folds' must be a list of fold numbers >= 0", display, n->source().begin.line);
        x.folds.push_back(static_cast<int>(*v));
      }
    }
    auto int_key = [&](std::string_view key, std::int64_t lo) -> std::optional<std::int64_t> {
      const toml::node* n = r->get(key);
      if (!n) return std::nullopt;
      auto v = n->value_exact<std::int64_t>();
      if (!v || *v < lo)
        fail(ErrorCode::kInvalidArgument, "{}:{}: 'run.{}' must be an integer >= {}", display, n->source().begin.line, key, lo);
      return v;
    };
    if (auto v = int_key("seed", 0)) x.seed = static_cast<std::uint64_t>(*v);
    if (auto v = int_key("threads", 0))
      x.threads = check_threads(*v, fmt::format("{}:{}: 'run.threads'", display,
                                                r->get("threads")->source().begin.line));
    if (auto v = int_key("parallel_folds", 1)) x.parallel_folds = static_cast<std::size_t>(*v);
  }
  return x;
}

}  // namespace compe::run
