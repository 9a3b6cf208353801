#pragma once
/// Runs tasks 0..n-1 on worker threads and hands their results back in task order, with at
/// most `window` results done-but-not-taken (bounded memory). Used by convert (images) and
/// the training loader (batches). A task's exception is rethrown by next() for that task.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace nucseg {

template <class Result>
class OrderedQueue {
 public:
  OrderedQueue(std::size_t count, int threads, std::size_t window,
               std::function<Result(std::size_t)> task)
      : count_(count), window_(std::max<std::size_t>(window, 1)), task_(std::move(task)),
        slots_(count) {
    for (int t = 0; t < std::max(threads, 1); ++t) workers_.emplace_back([this] { work(); });
  }
  ~OrderedQueue() { stop(); }
  OrderedQueue(const OrderedQueue&) = delete;
  OrderedQueue& operator=(const OrderedQueue&) = delete;

  std::size_t size() const { return count_; }

  /// The result of the next task in order; blocks until it is ready. `poll` is called about
  /// every 200 ms while waiting (it may throw, e.g. on interruption).
  Result next(const std::function<void()>& poll = nullptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::size_t i = taken_;
    while (!slots_[i]) {
      ready_.wait_for(lock, std::chrono::milliseconds(200));
      if (poll) {
        lock.unlock();
        poll();
        lock.lock();
      }
    }
    Slot slot = std::move(*slots_[i]);
    slots_[i].reset();
    ++taken_;
    lock.unlock();
    room_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(*slot.value);
  }

  /// True when next() would not wait.
  bool next_ready() {
    std::lock_guard<std::mutex> lock(mutex_);
    return taken_ < count_ && slots_[taken_].has_value();
  }

  /// Stops the workers (tasks in flight finish first); safe to call twice.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    room_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

 private:
  struct Slot {
    std::optional<Result> value;
    std::exception_ptr error;
  };

  void work() {
    for (;;) {
      std::size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        room_.wait(lock, [&] { return stopping_ || (next_task_ < count_ && next_task_ < taken_ + window_); });
        if (stopping_ || next_task_ >= count_) return;
        i = next_task_++;
      }
      Slot slot;
      try {
        slot.value.emplace(task_(i));
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slots_[i] = std::move(slot);
      }
      ready_.notify_all();
    }
  }

  std::size_t count_;
  std::size_t window_;
  std::function<Result(std::size_t)> task_;
  std::vector<std::optional<Slot>> slots_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::size_t next_task_ = 0;
  std::size_t taken_ = 0;
  bool stopping_ = false;
};

}  // namespace nucseg
