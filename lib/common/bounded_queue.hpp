#pragma once
/// A queue between two pipeline stages: push blocks while `capacity` items wait (0 = no
/// bound), pop blocks until an item arrives or the queue is closed. Closing wakes every
/// waiter: pushes are refused from then on and pops drain what is left, then give nothing.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace nucseg {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity = 0) : capacity_(capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  /// Waits for room; false (the item dropped) when the queue is closed.
  bool push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [&] { return closed_ || capacity_ == 0 || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    lock.unlock();
    ready_.notify_one();
    return true;
  }

  /// The oldest item; nothing once the queue is closed and empty.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return take(lock);
  }

  /// The oldest item if one is waiting now.
  std::optional<T> try_pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    return take(lock);
  }

  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  std::optional<T> take(std::unique_lock<std::mutex>& lock) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    lock.unlock();
    room_.notify_one();
    return item;
  }

  std::size_t capacity_;
  std::deque<T> items_;
  mutable std::mutex mutex_;
  std::condition_variable ready_, room_;
  bool closed_ = false;
};

}  // namespace nucseg
