#pragma once
/// NUCSEG_ARG(T, name): a chained setter `name(v)` returning *this, a getter `name()`, and
/// the member `name_`, in the style of LibTorch's TORCH_ARG.
#define NUCSEG_ARG(T, name)                         \
 public:                                            \
  auto name(const T& new_##name)->decltype(*this) { \
    this->name##_ = new_##name;                     \
    return *this;                                   \
  }                                                 \
  const T& name() const noexcept { return this->name##_; } \
  T& name() noexcept { return this->name##_; }      \
                                                    \
 private:                                           \
  T name##_
