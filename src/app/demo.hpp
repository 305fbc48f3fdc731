#pragma once

#include <ostream>

namespace wslab::app {

struct DemoOptions {
  bool step = false;  // wait for Enter between chapters
};

int run_demo(std::ostream& out, const DemoOptions& options);

}  // namespace wslab::app
