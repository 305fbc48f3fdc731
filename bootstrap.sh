#!/usr/bin/env bash
# bootstrap.sh: install what wslab needs on Debian 12, build it, run it.
#
#   ./bootstrap.sh start      install, build (release) and start the main job:
#                             the server (wslab serve) on http://127.0.0.1:8080/,
#                             the scripted tour of every chapter (wslab tour) and
#                             the visualiser (wslab-viz) on its trace; without a
#                             display, the frames as ASCII bit diagrams instead
#   ./bootstrap.sh serve      the same build, the server alone
#   ./bootstrap.sh test       install, build and run every test, under
#                             AddressSanitizer + UBSan (the asan preset)
#   ./bootstrap.sh demo       the chapter demo in the terminal
#   ./bootstrap.sh test-debug every test, in a plain debug build (quicker to build)
#   ./bootstrap.sh test-asan  the same as test
#   ./bootstrap.sh test-tsan  the network and conformance tests under ThreadSanitizer
#   ./bootstrap.sh test-fuzz  every libFuzzer target for 30 s (clang; docs/fuzzing.md)
#   ./bootstrap.sh deps       only install the Debian packages
#   ./bootstrap.sh bench      build (release) and run the benchmarks
#
# Idempotent: packages already installed are not touched, builds are
# incremental. Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")"

# Build: the compiler, CMake, POCO, Catch2, OpenSSL, zlib; the visualiser:
# ImGui 1.86 (with its GLFW and OpenGL 3 backends), GLFW, stb (PNG
# screenshots). Tests: real peers (Python's websockets, tinyproxy, headless
# Chromium), Xvfb with Mesa for the visualiser. Benchmarks: Boost.Beast
# (header-only, libboost-dev) as the peer to compare with. Fuzzing: clang with
# libFuzzer and its sanitizers (clang, libclang-rt-14-dev).
PACKAGES=(cmake ninja-build g++ pkg-config libpoco-dev catch2 libssl-dev zlib1g-dev
          libimgui-dev libglfw3-dev libstb-dev libgl-dev libgl1-mesa-dri xvfb xauth
          python3 python3-websockets tinyproxy chromium libboost-dev
          clang libclang-rt-14-dev)

say() { printf 'bootstrap: %s\n' "$*" >&2; }

install_deps() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "missing packages ${missing[*]}; run as root or install them"; exit 1; }
    sudo=(sudo)
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {  # build PRESET
  # Warnings are errors in CI (CI=true), plain warnings elsewhere.
  if [ "${CI:-}" = "true" ]; then export WSLAB_WERROR=ON; fi
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$(nproc)"
}

run_tests() {  # run_tests PRESET
  build "$1"
  ctest --preset "$1" -j "$(nproc)"
}

# The main job: `wslab serve` (its arguments: ./bootstrap.sh start --port
# 9000), then a viewer on its trace stream, /trace/ws, in the foreground:
# wslab-viz, or without a display `wslab watch` (ASCII bit diagrams), and
# `wslab tour` in the background, narrating each step. Ctrl-C, or closing
# the visualiser, stops all three.
main_job() {
  local bin=build/release/src/app/wslab viz=build/release/visualiser/wslab-viz
  local log=build/release/wslab-serve.log
  pids=()  # global: the EXIT trap runs after this function has returned
  stop_all() {
    trap - EXIT INT TERM
    [ ${#pids[@]} -eq 0 ] && return 0
    kill "${pids[@]}" 2>/dev/null || true  # SIGTERM: the server closes every connection with 1001
    wait "${pids[@]}" 2>/dev/null || true
  }
  trap stop_all EXIT
  trap 'exit 0' INT TERM

  "$bin" serve "$@" >"$log" 2>&1 &
  pids+=($!)
  local url="" i
  for i in $(seq 100); do  # up to 10 s for "wslab: listening on ws://HOST:PORT ..."
    url=$(sed -n 's/^wslab: listening on \(wss\{0,1\}:\/\/[^ ]*\).*/\1/p' "$log")
    [ -n "$url" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    say "wslab serve did not start:"
    cat "$log" >&2
    exit 1
  fi
  say "$(head -n 1 "$log")"
  say "server log: $log"

  # The tour starts a second later, so the viewer sees it from the start.
  (sleep 1; exec "$bin" tour --url "$url") &
  pids+=($!)

  # The viewer runs in the background too, and the script waits for it: a
  # trapped signal interrupts `wait` at once (a foreground command would
  # hold the trap back until it ended).
  if [ -z "${DISPLAY:-}" ]; then
    say "no display: showing the frames as ASCII bit diagrams; run with a display, or \`xvfb-run\`, for wslab-viz"
    "$bin" watch --url "$url/trace/ws" &
  elif [ ! -x "$viz" ]; then
    say "wslab-viz was not built (it needs libimgui-dev, libglfw3-dev, libstb-dev): showing the frames as ASCII bit diagrams"
    "$bin" watch --url "$url/trace/ws" &
  else
    say "wslab-viz attached to $url/trace/ws; close its window or press Ctrl-C to stop"
    "$viz" --url "$url/trace/ws" &
  fi
  pids+=($!)
  wait "${pids[-1]}" || true
}

case "${1:-}" in
  deps) install_deps ;;
  start)
    install_deps
    build release
    main_job "${@:2}"
    ;;
  serve)
    install_deps
    build release
    exec build/release/src/app/wslab serve "${@:2}"
    ;;
  demo)
    install_deps
    build release
    exec build/release/src/app/wslab demo "${@:2}"
    ;;
  test|test-asan) install_deps; run_tests asan ;;
  test-debug) install_deps; run_tests debug ;;
  test-tsan) install_deps; run_tests tsan ;;
  test-fuzz) install_deps; run_tests fuzz ;;
  bench)
    install_deps
    build release
    for b in build/release/tests/bench/bench_*; do [ -x "$b" ] && "$b"; done
    /usr/bin/python3 tests/bench/run_net_bench.py build/release
    /usr/bin/python3 tests/bench/viz_stream_bench.py build/release
    /usr/bin/python3 tests/bench/run_deflate_bench.py build/release
    /usr/bin/python3 tests/bench/run_soak.py build/release   # about 3 minutes
    ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
