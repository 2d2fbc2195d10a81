#pragma once
// Internals shared by the fusion methods and their registry.

#include <cstdint>
#include <memory>
#include <vector>

#include "compe/detect.hpp"

namespace compe::detect {

// A box that passed the input checks, with its (weighted) score.
struct Entry {
  Coords c;
  double score = 0;
  double weight = 1;
  std::int64_t label = 0;
  std::int32_t model = 0;
};

// A run of ws.by_label holding one label; first_entry orders groups by first appearance.
struct Group {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t first_entry = 0;
};

struct Cluster {
  Coords box;                  // corners used for matching and output
  float acc[4] = {0, 0, 0, 0};  // running float32 sum of score * corner, as the reference keeps it
  double plain[4] = {0, 0, 0, 0};
  double conf = 0, wsum = 0, maxs = 0;
  double score_field = 0, weight_field = 0;
  std::uint32_t n = 0;
  std::int32_t first = -1, last = -1;  // member chain through Workspace::Impl::next_member
};

struct Workspace::Impl {
  std::vector<Entry> entries;
  std::vector<std::uint32_t> by_label;
  std::vector<Group> groups;
  std::vector<double> values;
  std::vector<std::uint32_t> order;
  std::vector<Entry> sorted;
  std::vector<Cluster> clusters;
  std::vector<std::int32_t> next_member;
  std::vector<double> weights;
  std::vector<std::uint8_t> seen;
  std::vector<Box> fused;
};

std::unique_ptr<Fuser> make_wbf(const Info& info, Params p);
std::unique_ptr<Fuser> make_nmw(const Info& info, Params p);
std::unique_ptr<Fuser> make_nms(const Info& info, Params p);
std::unique_ptr<Fuser> make_soft_nms(const Info& info, Params p);

}  // namespace compe::detect
