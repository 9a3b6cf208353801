// Crops per second of the training loader alone (no network): reading, augmentation and batch
// assembly of an epoch's steps, as `nucseg train` runs them, on 1..N loader threads.
//
//   nucseg_bench_loader DATA.h5 CONFIG.json THREADS [STEPS] [PASSES]
//
// Prints one JSON line per pass (an epoch of at most STEPS steps): the first reads from the
// file (and fills the cache), the others (PASSES - 1, default 4) run from memory. crops_per_cpu_s
// (crops per second of process CPU time) shows how threads would scale on idle cores.
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "common/config.hpp"
#include "train/loader.hpp"
#include "train/trainer.hpp"

int main(int argc, char** argv) {
  using namespace nucseg;
  if (argc < 4) {
    std::cerr << "usage: nucseg_bench_loader DATA.h5 CONFIG.json THREADS [STEPS]\n";
    return 2;
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(argv[2]));
  config["data"] = argv[1];
  config["out"] = "unused";
  const auto o = train::TrainOptions::from_json(config);
  const int threads = std::atoi(argv[3]);
  const store::DatasetReader reader(o.data());
  const auto train_idx = reader.split_indices("train");
  const train::SampleCache cache(reader, train::cache_budget_bytes(-1, 1));
  train::BatchRecipe recipe;
  recipe.training = true;
  recipe.augment = o.augment();
  recipe.pixels_on_device = o.augment().device == train::AugmentDevice::gpu;
  if (!reader.spec().fixed_size) {
    recipe.augment.crop_height = o.crop()[0];
    recipe.augment.crop_width = o.crop()[1];
  }
  recipe.size_multiple = o.model().size_multiple();
  recipe.seed = o.seed();
  const train::DistributedSampler sampler(train_idx, o.batch_size(), 1, 0, o.seed());
  const std::int64_t max_steps = argc > 4 ? std::atoll(argv[4]) : 0;
  const int passes = argc > 5 ? std::atoi(argv[5]) : 5;
  for (int pass = 0; pass < passes; ++pass) {
    auto steps = sampler.epoch(pass);
    if (max_steps > 0 && static_cast<std::int64_t>(steps.size()) > max_steps) steps.resize(static_cast<std::size_t>(max_steps));
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    train::Loader loader(cache, steps, recipe, pass, threads, 2 * threads);
    std::int64_t crops = 0;
    for (std::size_t k = 0; k < loader.size(); ++k) crops += loader.next(nullptr).count;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;  // all threads
    std::cout << nlohmann::json{{"pass", pass}, {"from", pass == 0 ? "file" : "memory"}, {"threads", threads},
                                {"crops", crops}, {"seconds", s}, {"crops_per_s", crops / s},
                                {"crops_per_cpu_s", crops / cpu},
                                {"crop", {recipe.augment.crop_height, recipe.augment.crop_width}},
                                {"cached_mib", cache.bytes() >> 20}}
                     .dump()
              << "\n";
  }
  return 0;
}
