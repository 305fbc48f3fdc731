// The replaceable global allocation functions (C++ [new.delete]), counting.
// malloc_usable_size gives a block's size back at delete, so nothing needs
// storing beside it.
#include "alloc_counter.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace {

std::size_t in_use = 0;  // the tests are single-threaded
std::size_t peak_in_use = 0;

void* allocate(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  in_use += malloc_usable_size(p);
  peak_in_use = std::max(peak_in_use, in_use);
  return p;
}

void release(void* p) noexcept {
  if (!p) return;
  in_use -= malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }

namespace wslab::testing {

std::size_t heap_in_use() { return in_use; }

HeapPeak::HeapPeak() : base_(in_use) { peak_in_use = in_use; }

std::size_t HeapPeak::peak() const { return peak_in_use > base_ ? peak_in_use - base_ : 0; }

}  // namespace wslab::testing
