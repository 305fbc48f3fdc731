// Heap accounting for the extensions tests: this test program replaces the
// global operator new and delete (alloc_counter.cpp) with ones that count the
// bytes in use, so a test can ask how much memory a piece of code needed at
// its busiest. Used to show that a decompression bomb is stopped having
// allocated about the message size limit, not what it would inflate to.
#pragma once

#include <cstddef>

namespace wslab::testing {

std::size_t heap_in_use();

// Peak heap use since construction, above what was in use then (one at a
// time: a second one restarts the count).
class HeapPeak {
 public:
  HeapPeak();
  std::size_t peak() const;  // bytes

 private:
  std::size_t base_;
};

}  // namespace wslab::testing
