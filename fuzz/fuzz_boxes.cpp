// The box readers: detections CSV (xyxy, xywh), ground-truth CSV, image sizes, COCO annotations
// and results JSON, PredictionString files and strings; the first byte picks the reader.
#include "compe/detect.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace compe;
  namespace det = compe::detect;
  const int which = data[0] % 9;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz::expect_clean([&] {
    switch (which) {
      case 0: (void)det::read_detections_csv(fuzz::as_file("d.csv", text), det::BoxFormat::kXyxy); break;
      case 1: (void)det::read_detections_csv(fuzz::as_file("d.csv", text), det::BoxFormat::kXywh); break;
      case 2: (void)det::read_ground_truth_csv(fuzz::as_file("gt.csv", text), det::BoxFormat::kXyxy); break;
      case 3: (void)det::read_image_sizes_csv(fuzz::as_file("sizes.csv", text)); break;
      case 4: (void)det::read_coco_annotations(fuzz::as_file("gt.json", text)); break;
      case 5: (void)det::read_coco_results(fuzz::as_file("res.json", text)); break;
      case 6: (void)det::read_prediction_string_csv(fuzz::as_file("ps.csv", text), true); break;
      case 7: (void)det::read_prediction_string_csv(fuzz::as_file("ps.csv", text), false); break;
      default: {
        std::vector<det::Box> out;
        det::parse_prediction_string(text, true, "PredictionString", out);
        break;
      }
    }
  });
  return 0;
}
