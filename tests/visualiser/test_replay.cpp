// wslab-viz's replay source (visualiser/app/sources.cpp): events applied by
// their timestamps × speed, one frame forward and back, seeking, and the
// headless "everything up to the selected frame". Built with wslab-viz only
// (WSLAB_VIZ_PATH), like the screenshot test.
#ifdef WSLAB_VIZ_PATH

#include "sources.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::viz;
using connection::Direction;

namespace {

trace::Frame frame_at(std::uint64_t seq, trace::Micros time) {
  trace::Frame f;
  f.conn = 1;
  f.seq = seq;
  f.time = time;
  f.direction = Direction::received;
  f.opcode = 0x1;
  f.payload_length = 1;
  f.preview = {'x'};
  f.preview_masked = f.preview;
  return f;
}

// hello, open at 0, frames 1..4 at 1 s, 2 s, 3 s, 4 s, close at 5 s.
std::vector<trace::Event> events() {
  std::vector<trace::Event> e;
  e.push_back(trace::Hello{.source = "test"});
  e.push_back(trace::ConnectionOpen{.conn = 1, .time = 0});
  for (std::uint64_t s = 1; s <= 4; ++s) e.push_back(frame_at(s, static_cast<trace::Micros>(s) * 1'000'000));
  e.push_back(trace::ConnectionClose{.conn = 1, .time = 5'000'000});
  return e;
}

}  // namespace

TEST_CASE("replay applies events when their time comes, times the speed") {
  Replay replay(events());
  AppState app(100);
  replay.update(app, 0.5);  // 0.5 s: hello and open (time 0)
  CHECK(app.replay.position == 2);
  CHECK(app.store.frames().empty());
  replay.update(app, 0.6);  // 1.1 s: frame 1
  CHECK(app.replay.position == 3);
  REQUIRE(app.store.frames().size() == 1);
  app.replay.speed = 2.0;
  replay.update(app, 1.0);  // + 2 s of trace time = 3.1 s: frames 2 and 3
  CHECK(app.store.frames().size() == 3);
  app.replay.playing = false;
  replay.update(app, 10.0);  // paused: nothing
  CHECK(app.store.frames().size() == 3);
  app.replay.playing = true;
  replay.update(app, 10.0);  // to the end, then it stops playing
  CHECK(app.replay.position == app.replay.total);
  replay.update(app, 0.0);
  CHECK_FALSE(app.replay.playing);
}

TEST_CASE("replay steps one frame forward and back, and seeks") {
  Replay replay(events());
  AppState app(100);
  app.replay.playing = false;
  app.replay.step_forward = true;
  replay.update(app, 0.0);
  CHECK(app.replay.position == 3);  // hello, open, frame 1
  CHECK(app.selected_seq == 1u);
  app.replay.step_forward = true;
  replay.update(app, 0.0);
  CHECK(app.selected_seq == 2u);
  CHECK(app.store.frames().size() == 2);

  app.replay.step_back = true;
  replay.update(app, 0.0);
  CHECK(app.store.frames().size() == 1);  // rebuilt without frame 2
  CHECK(app.selected_seq == 1u);
  CHECK(app.replay.position == 3);
  CHECK_FALSE(app.replay.step_back);

  app.replay.step_back = true;
  replay.update(app, 0.0);
  CHECK(app.store.frames().empty());
  CHECK_FALSE(app.selected_seq);

  app.replay.seek = 6;  // through frame 4
  replay.update(app, 0.0);
  CHECK(app.store.frames().size() == 4);
  CHECK(app.store.events_seen() == 6);
  app.replay.seek = 1;
  replay.update(app, 0.0);
  CHECK(app.store.frames().empty());
  CHECK(app.store.hello());
}

TEST_CASE("headless replay applies everything up to the selected frame") {
  Replay replay(events());
  AppState app(100);
  CHECK(replay.apply_through(app, 3));
  CHECK(app.store.frames().size() == 3);
  CHECK(app.store.frames().back().seq == 3);
  CHECK_FALSE(app.replay.playing);
  CHECK(replay.apply_through(app, std::nullopt));
  CHECK(app.replay.position == 7);
  CHECK_FALSE(replay.apply_through(app, 99));
}

#endif  // WSLAB_VIZ_PATH
