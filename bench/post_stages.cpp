// Times each step that predict runs after the network, on probability maps written by
// `nucseg predict --probabilities` and the raw images they came from:
//   nucseg_bench_post [--repeats N] [--mode contour|binary] prob.tif raw.tif [prob.tif raw.tif ...]
// Prints one JSON line: the median seconds per step over all images, and the megapixels.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/image_reader.hpp"
#include "io/image_writer.hpp"
#include "io/itk_setup.hpp"
#include "measure/measure.hpp"
#include "postprocess/postprocess.hpp"

using namespace nucseg;

namespace {
double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  int repeats = 5;
  std::string mode = "contour";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (a == "--mode" && i + 1 < argc) mode = argv[++i];
    else files.push_back(a);
  }
  if (files.empty() || files.size() % 2 != 0) {
    std::fprintf(stderr, "usage: %s [--repeats N] [--mode contour|binary] prob.tif raw.tif ...\n", argv[0]);
    return 2;
  }
  io::register_itk_io();
  const postprocess::PostprocessOptions post(mode == "binary" ? postprocess::Mode::binary : postprocess::Mode::contour);
  std::map<std::string, double> total;
  double megapixels = 0;
  const std::string tmp = "/tmp/nucseg_bench_post_labels.tif";
  for (std::size_t f = 0; f < files.size(); f += 2) {
    const RawImage probs = io::read_image(files[f]);
    const RawImage raw = io::read_image(files[f + 1]);
    megapixels += probs.plane_size() / 1e6;
    std::map<std::string, std::vector<double>> t;
    for (int r = 0; r < repeats; ++r) {
      LabelImage labels;
      std::vector<measure::NucleusMeasurement> nuclei;
      t["foreground_mask"].push_back(seconds([&] { postprocess::foreground_mask(probs, post); }));
      t["labels_from_probabilities"].push_back(
          seconds([&] { labels = postprocess::labels_from_probabilities(probs, post); }));
      t["measure_nuclei"].push_back(seconds([&] { nuclei = measure::measure_nuclei(labels, raw, 0); }));
      t["summarize"].push_back(seconds([&] { measure::summarize(labels, nuclei); }));
      t["write_label_tiff"].push_back(seconds([&] { io::write_label_tiff(labels, tmp); }));
    }
    for (auto& [k, v] : t) total[k] += median(v);
  }
  std::remove(tmp.c_str());
  std::printf("{\"megapixels\": %.3f", megapixels);
  for (auto& [k, v] : total) std::printf(", \"%s\": %.4f", k.c_str(), v);
  std::printf("}\n");
  return 0;
}
