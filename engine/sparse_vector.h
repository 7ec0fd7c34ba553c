// A vector kept out of line, nothing at all while it is empty: for what most of a million
// objects never hold (where a list's items were written, attributes known only after apply,
// a resource's overlays and handlers), one pointer in each instead of three.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace reconcile {

template <typename T>
class SparseVector {
 public:
  SparseVector() = default;
  SparseVector(std::initializer_list<T> items) {
    if (items.size()) p_ = std::make_unique<std::vector<T>>(items);
  }
  SparseVector(const SparseVector& o) : p_(o.p_ ? std::make_unique<std::vector<T>>(*o.p_) : nullptr) {}
  SparseVector(SparseVector&&) noexcept = default;
  SparseVector& operator=(const SparseVector& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<std::vector<T>>(*o.p_) : nullptr;
    return *this;
  }
  SparseVector& operator=(SparseVector&&) noexcept = default;

  void push_back(T v) {
    if (!p_) p_ = std::make_unique<std::vector<T>>();
    p_->push_back(std::move(v));
  }
  // As a set: added when not there yet (a handful of items, searched in turn).
  void add(T v) {
    if (!contains(v)) push_back(std::move(v));
  }
  void clear() { p_.reset(); }
  bool empty() const { return !p_ || p_->empty(); }
  std::size_t size() const { return p_ ? p_->size() : 0; }
  const T& operator[](std::size_t i) const { return (*p_)[i]; }
  T& operator[](std::size_t i) { return (*p_)[i]; }
  const T& front() const { return p_->front(); }
  const T& back() const { return p_->back(); }
  T& back() { return p_->back(); }
  const T* begin() const { return p_ ? p_->data() : nullptr; }
  const T* end() const { return p_ ? p_->data() + p_->size() : nullptr; }
  T* begin() { return p_ ? p_->data() : nullptr; }
  T* end() { return p_ ? p_->data() + p_->size() : nullptr; }
  bool contains(const T& v) const { return std::find(begin(), end(), v) != end(); }
  bool operator==(const SparseVector& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

 private:
  std::unique_ptr<std::vector<T>> p_;
};

}  // namespace reconcile
