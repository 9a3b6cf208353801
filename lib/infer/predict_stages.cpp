#include "infer/predict_stages.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/bounded_queue.hpp"
#include "common/error.hpp"
#include "common/ordered_queue.hpp"
#include "common/signals.hpp"

namespace nucseg::infer {
namespace {

using Clock = std::chrono::steady_clock;
using Item = std::unique_ptr<StagedImage>;

/// A task of the post-processing pool: an image after its pass, or a band of a tall image.
struct PostTask {
  Item item;                  ///< null for a band
  std::function<void()> band;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Runs `step`; a failure one image survives (anything but an interruption or an output
/// error) goes into `error`.
template <class Step>
void or_error(std::string& error, Step&& step) {
  try {
    step();
  } catch (const Interrupted&) {
    throw;
  } catch (const OutputError&) {
    throw;
  } catch (const std::exception& e) {  // InputError, torch errors (e.g. out of memory)
    error = e.what();
  }
}

/// Runs `step` on `item`; a failure the image survives becomes its error.
template <class Step>
void or_image_error(StagedImage& item, Step&& step) {
  or_error(item.error, std::forward<Step>(step));
}

class StageRun {
 public:
  StageRun(std::size_t count, const ForwardFn& forward, const StageOptions& options, const StageCallbacks& callbacks)
      : count_(count), forward_(forward), o_(options), cb_(callbacks), tta_forward_(with_tta(forward, options.inf.tta())),
        post_queue_(static_cast<std::size_t>(std::max(1, options.post_threads))), post_seconds_(pool_size()) {}

  StageSeconds run() {
    OrderedQueue<Item> reader(count_, std::max(1, o_.read_threads), static_cast<std::size_t>(std::max(1, o_.read_threads)),
                              [this](std::size_t k) { return read(k); });
    std::vector<std::thread> threads;
    threads.emplace_back([this] { guarded([this] { write_loop(); }); });
    for (std::size_t t = 0; t < pool_size(); ++t)
      threads.emplace_back([this, t] { guarded([this, t] { post_loop(post_seconds_[t]); }); });
    guarded([&] { network_loop(reader); });
    post_queue_.close();
    done_.close();
    for (auto& t : threads) t.join();
    reader.stop();
    if (error_) std::rethrow_exception(error_);
    return totals();
  }

 private:
  std::size_t pool_size() const { return static_cast<std::size_t>(std::max(1, o_.post_threads)); }

  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      stop(std::current_exception());
    }
  }

  void stop(std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = e;
      stopped_ = true;
    }
    changed_.notify_all();
    post_queue_.close();
    done_.close();
  }

  Item read(std::size_t k) {
    const auto t0 = Clock::now();
    Item item = cb_.read(k);
    item->order = k;
    std::lock_guard<std::mutex> lock(mutex_);
    read_seconds_ += seconds_since(t0);
    return item;
  }

  /// An image between its network pass's start and its maps: its tiles under way.
  struct InNetwork {
    Item item;
    InferenceOptions inf;                         ///< at the pass's scale
    std::unique_ptr<ImagePrediction> prediction;  ///< null: the image goes in bands
  };

  /// The next image for the network: one back for another pass first, else a new one when
  /// fewer than in_flight are under way; without `wait`, only one that is there now. Nothing
  /// when every image is written, the run stops, or (without `wait`) none is there.
  Item next_for_network(OrderedQueue<Item>& reader, std::size_t& taken, bool wait) {
    const std::size_t cap = static_cast<std::size_t>(std::max(1, o_.in_flight));
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (stopped_ || written_ == count_) return nullptr;
      if (!again_.empty()) {
        Item item = std::move(again_.front());
        again_.pop_front();
        return item;
      }
      if (taken < count_ && in_flight_ < cap && (wait || reader.next_ready())) break;
      if (!wait) return nullptr;
      changed_.wait_for(lock, std::chrono::milliseconds(200));
      lock.unlock();
      throw_if_interrupted("predict");
      lock.lock();
    }
    ++in_flight_;
    ++taken;
    lock.unlock();
    return reader.next([] { throw_if_interrupted("predict"); });
  }

  /// Fills each forward batch with the next tiles of the images in the network, taking in
  /// further images while the batch has room, so that small images share batches. An image
  /// whose tiles differ in shape from those under way, or that goes in bands, waits until
  /// they are done.
  void network_loop(OrderedQueue<Item>& reader) {
    std::size_t taken = 0;
    std::optional<InNetwork> waiting;
    for (;;) {
      throw_if_interrupted("predict");
      take_images(reader, taken, waiting);
      if (open_.empty() && !waiting) return;  // every image written, or the run stops
      if (open_.empty() && !waiting->prediction) {
        if (!pass_in_bands(std::move(waiting->item))) return;
        waiting.reset();
        continue;
      }
      if (open_.empty()) {
        open_.push_back(std::move(*waiting));
        waiting.reset();
      }
      forward_batch();
      if (!hand_on_finished()) return;
    }
  }

  /// Starts the passes of further images while the next batch has room (waiting for one
  /// only when the network has none), until one has to wait for those under way.
  void take_images(OrderedQueue<Item>& reader, std::size_t& taken, std::optional<InNetwork>& waiting) {
    while (!waiting && tiles_in_network() < batch_size()) {
      Item item = next_for_network(reader, taken, open_.empty());
      if (!item) return;
      auto started = start_pass(std::move(item));
      if (!started) continue;
      if (started->prediction && (open_.empty() || same_shape(*started, open_.front()))) {
        open_.push_back(std::move(*started));
      } else {
        waiting = std::move(started);
      }
    }
  }

  /// Starts an image's pass: its tiles planned at the pass's scale (or none, for bands). A
  /// failed image goes straight to writing, and nothing is returned.
  std::optional<InNetwork> start_pass(Item item) {
    if (!item->error.empty()) {
      done_.push(std::move(item));
      return std::nullopt;
    }
    const auto t0 = Clock::now();
    InNetwork in{std::move(item), o_.inf, nullptr};
    StagedImage& image = *in.item;
    if (image.passes == 0) image.scale = o_.inf.scale();
    in.inf.scale(image.scale);
    ++image.passes;
    network_seconds_.network_passes += 1;
    network_seconds_.network_megapixels +=
        static_cast<double>(image.normalized.height) * image.normalized.width * image.scale * image.scale / 1e6;
    if (!segments_in_bands(image.normalized, in.inf, o_.bands, o_.probabilities))
      or_image_error(image, [&] { in.prediction = std::make_unique<ImagePrediction>(image.normalized, in.inf); });
    network_seconds_.network += seconds_since(t0);
    if (!image.error.empty()) {
      done_.push(std::move(in.item));
      return std::nullopt;
    }
    return in;
  }

  static bool same_shape(const InNetwork& a, const InNetwork& b) {
    return a.prediction->tile_shape() == b.prediction->tile_shape();
  }

  std::size_t batch_size() const { return static_cast<std::size_t>(std::max(1, o_.inf.batch_size())); }

  std::size_t tiles_in_network() const {
    std::size_t n = 0;
    for (const auto& in : open_) n += in.prediction->tiles_left();
    return n;
  }

  /// One forward call on the next tiles of the images in the network. When it fails on tiles
  /// of several images, each tries again alone, so that only an image the network fails on
  /// fails.
  void forward_batch() {
    const auto t0 = Clock::now();
    std::vector<ImagePrediction*> batch;
    for (std::size_t n = 0, i = 0; i < open_.size() && n < batch_size(); ++i) {
      batch.push_back(open_[i].prediction.get());
      n += open_[i].prediction->tiles_left();
    }
    std::string error;
    or_error(error, [&] { predict_next_tiles(batch, tta_forward_, o_.inf, forward_stats_); });
    if (!error.empty() && batch.size() == 1) fail(0, error);
    for (std::size_t i = batch.size(); !error.empty() && batch.size() > 1 && i-- > 0;) {
      std::string alone;
      or_error(alone, [&] { predict_next_tiles({open_[i].prediction.get()}, tta_forward_, o_.inf, forward_stats_); });
      if (!alone.empty()) fail(i, alone);
    }
    network_seconds_.network += seconds_since(t0);
  }

  /// Image open_[i] fails with `error` and goes to writing.
  void fail(std::size_t i, const std::string& error) {
    open_[i].item->error = error;
    done_.push(std::move(open_[i].item));
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  /// Hands the images whose tiles are all done to the pool with their maps; false when the
  /// run stops.
  bool hand_on_finished() {
    while (!open_.empty() && open_.front().prediction->tiles_left() == 0) {
      const auto t0 = Clock::now();
      InNetwork in = std::move(open_.front());
      open_.pop_front();
      or_image_error(*in.item, [&] { in.item->maps = finish_maps(*in.prediction, in.inf); });
      in.prediction.reset();
      network_seconds_.network += seconds_since(t0);
      const bool pushed =
          in.item->error.empty() ? post_queue_.push({std::move(in.item), {}}) : done_.push(std::move(in.item));
      if (!pushed) return false;
    }
    return true;
  }

  /// A tall image's pass, band by band, its bands post-processed on the pool while the network
  /// predicts the next; false when the run stops.
  bool pass_in_bands(Item item) {
    or_image_error(*item, [&] {
      InferenceOptions inf = o_.inf;
      inf.scale(item->scale);
      SegmentTimes t;
      // Refused once the run stops: the band's labels never come and the image fails.
      const BandRunner on_pool = [this](std::function<void()> band) { post_queue_.push({nullptr, std::move(band)}); };
      Nuclei nuclei = segment(item->normalized, forward_, inf, o_.post, o_.bands, nullptr, t, on_pool);
      item->labels = std::move(nuclei.labels);
      item->confidence = std::move(nuclei.confidence);
      network_seconds_.network += t.forward_seconds;
      network_seconds_.postprocess += t.post_seconds;
      forward_stats_.batches += t.batches;
      forward_stats_.tiles += t.tiles;
    });
    if (!item->error.empty()) return done_.push(std::move(item));
    return post_queue_.push({std::move(item), {}});
  }

  void post_loop(StageSeconds& mine) {
    while (auto task = post_queue_.pop()) {
      if (task->band) {
        task->band();
      } else {
        after_pass(std::move(task->item), mine);
      }
    }
  }

  /// Labels from the maps, then another pass or the measurements.
  void after_pass(Item item, StageSeconds& mine) {
    bool again = false;
    or_image_error(*item, [&] {
      SegmentTimes t;
      if (!item->maps.probabilities.pixels.empty()) {
        Nuclei nuclei =
            labels_from_maps(std::move(item->maps), o_.post, o_.probabilities ? &item->probabilities : nullptr, t);
        item->labels = std::move(nuclei.labels);
        item->confidence = std::move(nuclei.confidence);
      }
      item->maps = NetworkMaps();
      mine.postprocess += t.post_seconds;
      if (const auto scale = cb_.rescale(*item)) {
        item->scale = *scale;
        item->labels = LabelImage();  // not both whole label images at once (large images)
        item->confidence.clear();
        item->probabilities = RawImage();
        again = true;
        return;
      }
      item->normalized = RawImage();
      const auto t0 = Clock::now();
      cb_.measure(*item);
      mine.measure += seconds_since(t0);
    });
    if (again) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        again_.push_back(std::move(item));
      }
      changed_.notify_all();
      return;
    }
    done_.push(std::move(item));
  }

  /// Writes the images in input order as they come.
  void write_loop() {
    std::map<std::size_t, Item> waiting;
    std::size_t next = 0;
    while (next < count_) {
      auto item = done_.pop();
      if (!item) return;
      const std::size_t order = (*item)->order;
      waiting.emplace(order, std::move(*item));
      for (auto it = waiting.begin(); it != waiting.end() && it->first == next; it = waiting.begin()) {
        const auto t0 = Clock::now();
        cb_.write(*it->second);
        write_seconds_ += seconds_since(t0);
        waiting.erase(it);
        ++next;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          --in_flight_;
          ++written_;
        }
        changed_.notify_all();
      }
    }
  }

  StageSeconds totals() const {
    StageSeconds s = network_seconds_;
    s.forward_batches = forward_stats_.batches;
    s.forward_tiles = forward_stats_.tiles;
    s.read = read_seconds_;
    s.write = write_seconds_;
    for (const auto& p : post_seconds_) {
      s.postprocess += p.postprocess;
      s.measure += p.measure;
    }
    return s;
  }

  std::size_t count_;
  const ForwardFn& forward_;
  const StageOptions& o_;
  const StageCallbacks& cb_;
  const ForwardFn tta_forward_;  ///< forward with the test-time augmentation asked for
  BoundedQueue<PostTask> post_queue_;
  BoundedQueue<Item> done_;  ///< finished or failed images, any order
  std::vector<StageSeconds> post_seconds_;  ///< one per pool thread
  StageSeconds network_seconds_;
  InferenceStats forward_stats_;  ///< batches and tiles through the network
  std::deque<InNetwork> open_;    ///< network thread: images whose tiles are under way, in order
  double read_seconds_ = 0;
  double write_seconds_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;  ///< again_, in_flight_, written_ or stopped_ changed
  std::deque<Item> again_;           ///< images back for another pass
  std::size_t in_flight_ = 0;
  std::size_t written_ = 0;
  bool stopped_ = false;
  std::exception_ptr error_;
};

}  // namespace

StageSeconds run_stages(std::size_t count, const ForwardFn& forward, const StageOptions& options,
                        const StageCallbacks& callbacks) {
  if (count == 0) return {};
  return StageRun(count, forward, options, callbacks).run();
}

}  // namespace nucseg::infer
