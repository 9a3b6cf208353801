#include "infer/predict_stages.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/bounded_queue.hpp"
#include "common/error.hpp"
#include "common/ordered_queue.hpp"
#include "common/signals.hpp"

namespace nucseg::infer {
namespace {

using Clock = std::chrono::steady_clock;
using Item = std::unique_ptr<StagedImage>;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Runs `step` on `item`; a failure one image survives (anything but an interruption or an
/// output error) becomes the image's error.
template <class Step>
void or_image_error(StagedImage& item, Step&& step) {
  try {
    step();
  } catch (const Interrupted&) {
    throw;
  } catch (const OutputError&) {
    throw;
  } catch (const std::exception& e) {  // InputError, torch errors (e.g. out of memory)
    item.error = e.what();
  }
}

class StageRun {
 public:
  StageRun(std::size_t count, const ForwardFn& forward, const StageOptions& options, const StageCallbacks& callbacks)
      : count_(count), forward_(forward), o_(options), cb_(callbacks),
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

  /// The next image for the network: a second pass first, else a new image when fewer than
  /// in_flight are under way; nothing when every image is written or the run stops.
  Item next_for_network(OrderedQueue<Item>& reader, std::size_t& taken) {
    const std::size_t cap = static_cast<std::size_t>(std::max(1, o_.in_flight));
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (stopped_ || written_ == count_) return nullptr;
      if (!again_.empty()) {
        Item item = std::move(again_.front());
        again_.pop_front();
        return item;
      }
      if (taken < count_ && in_flight_ < cap) break;
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

  void network_loop(OrderedQueue<Item>& reader) {
    std::size_t taken = 0;
    while (Item item = next_for_network(reader, taken)) {
      throw_if_interrupted("predict");
      if (item->error.empty()) or_image_error(*item, [&] { network_pass(*item); });
      if (!item->error.empty()) {
        done_.push(std::move(item));
      } else if (!post_queue_.push(std::move(item))) {
        return;
      }
    }
  }

  /// One pass through the network: the maps for the pool, or (tall images) labels band by band.
  void network_pass(StagedImage& item) {
    InferenceOptions inf = o_.inf;
    if (item.passes == 0) item.scale = inf.scale();
    inf.scale(item.scale);
    ++item.passes;
    SegmentTimes t;
    if (segments_in_bands(item.normalized, inf, o_.bands, o_.probabilities)) {
      Nuclei nuclei = segment(item.normalized, forward_, inf, o_.post, o_.bands, nullptr, t);
      item.labels = std::move(nuclei.labels);
      item.confidence = std::move(nuclei.confidence);
    } else {
      item.maps = predict_maps(item.normalized, forward_, inf, t);
    }
    network_seconds_.network += t.forward_seconds;
    network_seconds_.postprocess += t.post_seconds;
    network_seconds_.network_passes += 1;
    network_seconds_.network_megapixels +=
        static_cast<double>(item.normalized.height) * item.normalized.width * item.scale * item.scale / 1e6;
  }

  void post_loop(StageSeconds& mine) {
    while (auto item = post_queue_.pop()) after_pass(std::move(*item), mine);
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
  BoundedQueue<Item> post_queue_;
  BoundedQueue<Item> done_;  ///< finished or failed images, any order
  std::vector<StageSeconds> post_seconds_;  ///< one per pool thread
  StageSeconds network_seconds_;
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
