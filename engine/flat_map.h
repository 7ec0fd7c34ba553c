// A map kept as one sorted vector: what std::map offers the engine's attribute maps (sorted
// iteration, find, insert, erase), without a node, a pointer triple and a malloc per entry.
// A resource's attributes are a handful of short keys, and a million-resource plan holds
// several maps of each: as nodes they were a third of its memory.
//
// Unlike std::map, inserting or erasing moves the entries after it: iterators and references
// into the map do not survive a change to it, and what is inserted must not refer into the
// map it goes into (copy it out first).
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <utility>
#include <vector>

namespace reconcile {

template <class K, class V>
class FlatMap {
 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<K, V>;
  using Storage = std::vector<value_type>;
  using iterator = typename Storage::iterator;
  using const_iterator = typename Storage::const_iterator;
  using size_type = std::size_t;

  FlatMap() = default;
  FlatMap(std::initializer_list<value_type> items) { insert(items.begin(), items.end()); }
  template <class It>
  FlatMap(It first, It last) {
    insert(first, last);
  }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  const_iterator cbegin() const { return items_.begin(); }
  const_iterator cend() const { return items_.end(); }
  size_type size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }
  void reserve(size_type n) { items_.reserve(n); }

  template <class Q>
  iterator lower_bound(const Q& key) {
    return std::lower_bound(items_.begin(), items_.end(), key, Less());
  }
  template <class Q>
  const_iterator lower_bound(const Q& key) const {
    return std::lower_bound(items_.begin(), items_.end(), key, Less());
  }
  template <class Q>
  iterator find(const Q& key) {
    auto it = lower_bound(key);
    return it != items_.end() && !(key < it->first) ? it : items_.end();
  }
  template <class Q>
  const_iterator find(const Q& key) const {
    auto it = lower_bound(key);
    return it != items_.end() && !(key < it->first) ? it : items_.end();
  }
  template <class Q>
  size_type count(const Q& key) const {
    return find(key) != items_.end() ? 1 : 0;
  }
  template <class Q>
  bool contains(const Q& key) const {
    return find(key) != items_.end();
  }
  template <class Q>
  V& at(const Q& key) {
    auto it = find(key);
    if (it == items_.end()) throw std::out_of_range("FlatMap::at");
    return it->second;
  }
  template <class Q>
  const V& at(const Q& key) const {
    auto it = find(key);
    if (it == items_.end()) throw std::out_of_range("FlatMap::at");
    return it->second;
  }

  // As std::map's: an existing entry is kept, and the bool says whether one was added.
  template <class KK, class... Args>
  std::pair<iterator, bool> try_emplace(KK&& key, Args&&... args) {
    // Built in order (a probe's, a journal's JSON object), each key lands at the end.
    std::size_t at = items_.size();
    if (!items_.empty() && !(items_.back().first < key)) {
      auto it = lower_bound(key);
      if (!(key < it->first)) return {it, false};
      at = static_cast<std::size_t>(it - items_.begin());
    }
    // A handful of entries grows one at a time, so a small map holds no spare room; a large
    // one doubles, so building it stays linear.
    if (items_.size() == items_.capacity()) items_.reserve(items_.size() < 8 ? items_.size() + 1 : items_.size() * 2);
    auto it = items_.emplace(items_.begin() + static_cast<std::ptrdiff_t>(at), std::piecewise_construct,
                             std::forward_as_tuple(std::forward<KK>(key)),
                             std::forward_as_tuple(std::forward<Args>(args)...));
    return {it, true};
  }
  template <class KK, class VV>
  std::pair<iterator, bool> emplace(KK&& key, VV&& value) {
    return try_emplace(std::forward<KK>(key), std::forward<VV>(value));
  }
  std::pair<iterator, bool> insert(const value_type& item) { return try_emplace(item.first, item.second); }
  std::pair<iterator, bool> insert(value_type&& item) {
    return try_emplace(std::move(item.first), std::move(item.second));
  }
  template <class It>
  void insert(It first, It last) {
    for (; first != last; ++first) try_emplace(first->first, first->second);
  }
  template <class KK, class VV>
  std::pair<iterator, bool> insert_or_assign(KK&& key, VV&& value) {
    auto [it, added] = try_emplace(std::forward<KK>(key), std::forward<VV>(value));
    if (!added) it->second = std::forward<VV>(value);
    return {it, added};
  }
  V& operator[](const K& key) { return try_emplace(key).first->second; }
  V& operator[](K&& key) { return try_emplace(std::move(key)).first->second; }

  iterator erase(const_iterator it) { return items_.erase(it); }
  iterator erase(iterator it) { return items_.erase(it); }
  iterator erase(const_iterator first, const_iterator last) { return items_.erase(first, last); }
  template <class Q>
  size_type erase(const Q& key) {
    auto it = find(key);
    if (it == items_.end()) return 0;
    items_.erase(it);
    return 1;
  }

  void swap(FlatMap& o) noexcept { items_.swap(o.items_); }
  friend bool operator==(const FlatMap& a, const FlatMap& b) { return a.items_ == b.items_; }

 private:
  struct Less {
    template <class Q>
    bool operator()(const value_type& item, const Q& key) const {
      return item.first < key;
    }
  };
  Storage items_;
};

}  // namespace reconcile
