#include "infer/predict_stages.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "support/synthetic.hpp"

namespace nucseg::infer {
namespace {

/// A "network" that sees nuclei where the image is bright: one logit channel.
const ForwardFn kBright = [](const torch::Tensor& x) { return (x - 0.3) * 20.0; };

/// One whose output at a pixel depends on its neighbours within the tile.
const ForwardFn kBlurredBright = [](const torch::Tensor& x) { return torch::avg_pool2d(kBright(x), 3, 1, 1); };

RawImage scene(int height, int width, std::uint64_t seed) {
  const auto disks = testing::random_disks(height, width, height * width / 2500, 5, 9, 3, seed);
  RawImage img = testing::draw_scene(height, width, disks, 0.05f, 0.9f).image;
  img.source = "scene" + std::to_string(seed);
  return img;
}

struct Fixture {
  std::vector<RawImage> images;
  StageOptions options;
  std::vector<std::size_t> written;            // orders, as written
  std::vector<LabelImage> labels;              // by order
  std::vector<double> scales;                  // by order
  std::atomic<int> alive{0}, most_alive{0};
  std::mutex mutex;

  struct Tracked : StagedImage {
    explicit Tracked(Fixture& f) : fixture(f) {
      const int now = ++fixture.alive;
      int seen = fixture.most_alive.load();
      while (now > seen && !fixture.most_alive.compare_exchange_weak(seen, now)) {
      }
    }
    ~Tracked() override { --fixture.alive; }
    Fixture& fixture;
  };

  explicit Fixture(std::size_t count, int height = 96, int width = 112) {
    for (std::size_t i = 0; i < count; ++i) images.push_back(scene(height, width, i + 1));
    options.inf.tile_size(64).overlap(16).batch_size(2);
    options.post_threads = 3;
    options.read_threads = 2;
    options.in_flight = 3;
    labels.resize(count);
    scales.resize(count);
  }

  StageCallbacks callbacks(std::function<std::optional<double>(StagedImage&)> rescale = nullptr) {
    StageCallbacks cb;
    cb.read = [this](std::size_t k) -> std::unique_ptr<StagedImage> {
      auto item = std::make_unique<Tracked>(*this);
      item->normalized = images[k];
      return item;
    };
    cb.rescale = rescale ? rescale : [](StagedImage&) { return std::optional<double>(); };
    cb.measure = [](StagedImage& s) {  // uneven work, so that images finish out of order
      std::this_thread::sleep_for(std::chrono::milliseconds(s.order % 3 == 0 ? 30 : 0));
    };
    cb.write = [this](StagedImage& s) {
      std::lock_guard<std::mutex> lock(mutex);
      written.push_back(s.order);
      labels[s.order] = s.labels;
      scales[s.order] = s.scale;
    };
    return cb;
  }

  LabelImage expected(std::size_t k, double scale) const {
    InferenceOptions inf = options.inf;
    inf.scale(scale);
    SegmentTimes t;
    return segment(images[k], kBright, inf, options.post, options.bands, nullptr, t).labels;
  }
};

TEST(PredictStages, WritesInInputOrderWhatSegmentGives) {
  Fixture f(7);
  const auto seconds = run_stages(f.images.size(), kBright, f.options, f.callbacks());
  ASSERT_EQ(f.written.size(), 7u);
  for (std::size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(f.written[k], k);
    EXPECT_EQ(f.labels[k].labels, f.expected(k, 1.0).labels) << "image " << k;
    EXPECT_GT(f.labels[k].max_label(), 0u);
  }
  EXPECT_EQ(seconds.network_passes, 7);
  EXPECT_GT(seconds.network, 0.0);
  EXPECT_GT(seconds.postprocess, 0.0);
}

TEST(PredictStages, KeepsAtMostInFlightImagesPlusReadAhead) {
  Fixture f(9);
  run_stages(f.images.size(), kBright, f.options, f.callbacks());
  EXPECT_LE(f.most_alive.load(), f.options.in_flight + f.options.read_threads);
  EXPECT_EQ(f.alive.load(), 0);
}

TEST(PredictStages, SecondPassRunsAtTheScaleAsked) {
  Fixture f(4);
  const auto rescale = [](StagedImage& s) {
    return s.passes == 1 && s.order % 2 == 0 ? std::optional<double>(1.5) : std::nullopt;
  };
  const auto seconds = run_stages(f.images.size(), kBright, f.options, f.callbacks(rescale));
  EXPECT_EQ(seconds.network_passes, 6);
  for (std::size_t k = 0; k < 4; ++k) {
    const double scale = k % 2 == 0 ? 1.5 : 1.0;
    EXPECT_EQ(f.scales[k], scale);
    EXPECT_EQ(f.labels[k].labels, f.expected(k, scale).labels) << "image " << k;
  }
}

/// `cb` with image `k` failing to read.
StageCallbacks failing_to_read(StageCallbacks cb, std::size_t k) {
  cb.read = [k, read = cb.read](std::size_t order) {
    auto item = read(order);
    if (order == k) {
      item->normalized = RawImage();
      item->error = "cannot read";
    }
    return item;
  };
  return cb;
}

/// Records the tiles of each forward call; the first call waits, so that the readers have
/// the next images ready and batches can be filled across images.
struct RecordingNetwork {
  explicit RecordingNetwork(ForwardFn n) : network(std::move(n)) {}
  ForwardFn network;
  std::mutex mutex;
  std::vector<std::int64_t> tiles_per_call;

  ForwardFn forward() {
    return [this](const torch::Tensor& x) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (tiles_per_call.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        tiles_per_call.push_back(x.size(0));
      }
      return network(x);
    };
  }
};

TEST(PredictStages, SmallImagesShareForwardBatchesAndKeepTheirOwnLabelsAndMaps) {
  Fixture f(7, 64, 150);  // three 64 x 64 tiles each: batches of 4 take tiles of two images
  f.options.inf.batch_size(4);
  f.options.in_flight = 5;
  f.options.probabilities = true;
  RecordingNetwork net(kBlurredBright);
  std::vector<RawImage> maps(7);
  auto cb = f.callbacks();
  cb.write = [&, write = cb.write](StagedImage& s) {
    write(s);
    maps[s.order] = s.probabilities;
  };
  const auto seconds = run_stages(f.images.size(), net.forward(), f.options, cb);
  for (std::size_t k = 0; k < 7; ++k) {
    SegmentTimes t;
    RawImage map;
    const Nuclei alone = segment_image(f.images[k], kBlurredBright, f.options.inf, f.options.post, &map, t);
    EXPECT_EQ(f.labels[k].labels, alone.labels.labels) << "image " << k;
    EXPECT_EQ(maps[k].pixels, map.pixels) << "image " << k;
    EXPECT_GT(alone.labels.max_label(), 0u);
  }
  EXPECT_EQ(seconds.forward_tiles, 21);
  EXPECT_EQ(seconds.forward_batches, static_cast<std::int64_t>(net.tiles_per_call.size()));
  EXPECT_EQ(*std::max_element(net.tiles_per_call.begin(), net.tiles_per_call.end()), 4)
      << "no batch took tiles of two images";
  EXPECT_LE(f.most_alive.load(), f.options.in_flight + f.options.read_threads);
}

TEST(PredictStages, TilesOfAnotherShapeOrScaleWaitForTheirOwnBatches) {
  Fixture f(6, 64, 150);
  for (std::size_t k = 1; k < 6; k += 2) f.images[k] = scene(40, 150, 50 + k);  // 48-row tiles
  f.options.inf.batch_size(4);
  f.options.in_flight = 5;
  const auto rescale = [](StagedImage& s) {
    return s.passes == 1 && s.order % 3 == 0 ? std::optional<double>(1.5) : std::nullopt;
  };
  RecordingNetwork net(kBlurredBright);
  const auto seconds = run_stages(f.images.size(), net.forward(), f.options, f.callbacks(rescale));
  EXPECT_EQ(seconds.network_passes, 8);
  for (std::size_t k = 0; k < 6; ++k) {
    const double scale = k % 3 == 0 ? 1.5 : 1.0;
    InferenceOptions inf = f.options.inf;
    inf.scale(scale);
    SegmentTimes t;
    EXPECT_EQ(f.scales[k], scale);
    EXPECT_EQ(f.labels[k].labels, segment_image(f.images[k], kBlurredBright, inf, f.options.post, nullptr, t).labels.labels)
        << "image " << k;
  }
}

TEST(PredictStages, AnImageTheNetworkFailsOnFailsAloneInASharedBatch) {
  Fixture f(5, 64, 150);
  f.options.inf.batch_size(4);
  f.options.in_flight = 5;
  f.images[2].pixels.assign(f.images[2].pixels.size(), 0.123f);
  const ForwardFn fails_on_a_flat_tile = [](const torch::Tensor& x) {
    const auto spread = std::get<0>((x - 0.123f).abs().flatten(1).max(1));
    if ((spread < 1e-6f).any().item<bool>()) throw std::runtime_error("out of memory");
    return kBlurredBright(x);
  };
  RecordingNetwork net(fails_on_a_flat_tile);
  auto cb = failing_to_read(f.callbacks(), 1);
  std::vector<std::string> errors(5);
  cb.write = [&, write = cb.write](StagedImage& s) {
    write(s);
    errors[s.order] = s.error;
  };
  run_stages(5, net.forward(), f.options, cb);
  EXPECT_EQ(errors, (std::vector<std::string>{"", "cannot read", "out of memory", "", ""}));
  for (std::size_t k : {0u, 3u, 4u}) {
    SegmentTimes t;
    EXPECT_EQ(f.labels[k].labels,
              segment_image(f.images[k], kBlurredBright, f.options.inf, f.options.post, nullptr, t).labels.labels)
        << "image " << k;
  }
}

TEST(PredictStages, TallImagesGoInBands) {
  Fixture f(2, 400, 64);
  f.options.bands = BandOptions{100, 40};
  ASSERT_TRUE(segments_in_bands(f.images[0], f.options.inf, f.options.bands, false));
  run_stages(f.images.size(), kBright, f.options, f.callbacks());
  for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(f.labels[k].labels, f.expected(k, 1.0).labels);
}

/// A worker for band jobs that holds the first one back until `hold` jobs wait (or 10 s
/// pass), and records how many it had been given when it started the first: the bands
/// post-processed at once when the first is stitched before the next is given.
class HoldingWorker {
 public:
  explicit HoldingWorker(int hold) : hold_(hold), thread_([this] { loop(); }) {}
  ~HoldingWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  BandRunner runner() {
    return [this](std::function<void()> job) {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
      ++given_;
      changed_.notify_all();
    };
  }
  int given_at_first_start() {
    std::lock_guard<std::mutex> lock(mutex_);
    return given_at_first_start_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return closed_ || given_ >= hold_; });
    given_at_first_start_ = given_;
    for (;;) {
      changed_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  const int hold_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  int given_ = 0, given_at_first_start_ = 0;
  bool closed_ = false;
  std::thread thread_;
};

TEST(Bands, UpToAtOnceMinusOneArePostProcessedWhileTheNetworkPredictsTheNext) {
  Fixture f(1, 800, 64);
  SegmentTimes t;
  const Nuclei two = segment(f.images[0], kBright, f.options.inf, f.options.post, BandOptions{100, 40, 2}, nullptr, t);
  for (const int at_once : {2, 4}) {
    HoldingWorker worker(at_once - 1);
    const Nuclei banded = segment(f.images[0], kBright, f.options.inf, f.options.post,
                                  BandOptions{100, 40, at_once}, nullptr, t, worker.runner());
    EXPECT_EQ(worker.given_at_first_start(), at_once - 1) << at_once << " bands at once";
    EXPECT_EQ(banded.labels.labels, two.labels.labels) << at_once << " bands at once";
    EXPECT_EQ(banded.confidence.size(), two.confidence.size());
  }
}

TEST(PredictStages, BandsOfATallImageShareThePoolAndGiveTheSameLabels) {
  Fixture f(3, 800, 64);
  f.options.post_threads = 3;
  f.options.bands = BandOptions{100, 40, 4};
  run_stages(f.images.size(), kBright, f.options, f.callbacks());
  f.options.bands.at_once = 2;
  for (std::size_t k = 0; k < f.images.size(); ++k) EXPECT_EQ(f.labels[k].labels, f.expected(k, 1.0).labels);
}

TEST(PredictStages, BandsGiveEachNucleusItsConfidenceOverTheWholeImage) {
  Fixture f(1, 400, 64);
  f.options.bands = BandOptions{100, 40};
  SegmentTimes t;
  RawImage map;
  const Nuclei whole = segment_image(f.images[0], kBright, f.options.inf, f.options.post, &map, t);
  const Nuclei banded = segment(f.images[0], kBright, f.options.inf, f.options.post, f.options.bands, nullptr, t);
  ASSERT_EQ(banded.labels.labels, whole.labels.labels);
  const auto expected = postprocess::nucleus_confidence(whole.labels, map, f.options.post);
  ASSERT_GT(expected.size(), 5u);
  ASSERT_EQ(banded.confidence.size(), expected.size());
  ASSERT_EQ(whole.confidence.size(), expected.size());
  for (std::size_t l = 1; l < expected.size(); ++l) {
    EXPECT_GT(expected[l], 0.5f) << l;
    EXPECT_LE(expected[l], 1.0f) << l;
    EXPECT_NEAR(banded.confidence[l], expected[l], 1e-3) << "label " << l;
    EXPECT_FLOAT_EQ(whole.confidence[l], expected[l]) << "label " << l;
  }
}

TEST(PredictStages, AFailedImageGoesStraightToWrite) {
  Fixture f(3);
  auto cb = failing_to_read(f.callbacks(), 1);
  std::vector<std::string> errors(3);
  cb.write = [&](StagedImage& s) { errors[s.order] = s.error; };
  run_stages(3, kBright, f.options, cb);
  EXPECT_EQ(errors, (std::vector<std::string>{"", "cannot read", ""}));
}

TEST(PredictStages, ANetworkErrorFailsOnlyThatImage) {
  Fixture f(3);
  const ForwardFn fails_on_flat = [](const torch::Tensor& x) {
    if ((x - 0.123f).abs().max().item<float>() < 1e-6f) throw std::runtime_error("out of memory");
    return kBright(x);
  };
  f.images[2].pixels.assign(f.images[2].pixels.size(), 0.123f);
  auto cb = f.callbacks();
  std::vector<std::string> errors(3);
  cb.write = [&](StagedImage& s) { errors[s.order] = s.error; };
  run_stages(3, fails_on_flat, f.options, cb);
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[2], "out of memory");
}

TEST(PredictStages, AnOutputErrorStopsTheRunAndIsRethrown) {
  Fixture f(8);
  auto cb = f.callbacks();
  cb.write = [](StagedImage& s) {
    if (s.order == 2) throw OutputError("cannot write 'x.tif'");
  };
  EXPECT_THROW(run_stages(8, kBright, f.options, cb), OutputError);
  EXPECT_EQ(f.alive.load(), 0);
}

TEST(PredictStages, AReadErrorThatIsNotAnImageFailureStopsTheRun) {
  Fixture f(5);
  auto cb = f.callbacks();
  cb.read = [&, read = cb.read](std::size_t k) {
    if (k == 3) throw Interrupted("predict: interrupted");
    return read(k);
  };
  EXPECT_THROW(run_stages(5, kBright, f.options, cb), Interrupted);
}

}  // namespace
}  // namespace nucseg::infer
