#!/bin/sh
# "The tests test" (issue 5): the chapter tests must catch an unwritten
# exercise. For each chapter in course order, one reused learner-mode build
# (incremental: only the swapped chapter and what links it recompile) is
# configured with that chapter's untouched lessons/NN-<chapter>/exercise, and
#   - that chapter's test executable must exit non-zero, with at most half of
#     its test cases passing (the ones that still pass are listed: they test
#     code the exercise gives, or they are a defect in the skeleton);
#   - every chapter that is not built on it must pass (a chapter built on it,
#     like close on framing, is reported but not judged).
# Warnings are errors, so a skeleton must also compile cleanly.
#
#   tests/lessons/tests_test.sh SOURCE_DIR BUILD_DIR
set -u
src=${1:?usage: tests_test.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: tests_test.sh SOURCE_DIR BUILD_DIR}
chapters="uri handshake framing masking heartbeat close extensions"
modules="rules;uri;masking;handshake;framing;heartbeat;close;extensions"
targets=""
for c in $chapters; do targets="$targets test_$c"; done
problems=0
start=$(date +%s)

problem() {
  echo "  PROBLEM: $*"
  problems=$((problems + 1))
}

for chapter in $chapters; do
  echo "== exercise $chapter (WSLAB_LEARNER=$chapter)"
  if ! cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWSLAB_WERROR=ON \
      -DWSLAB_BUILD_BENCH=OFF -DWSLAB_BUILD_VISUALISER=OFF "-DWSLAB_MODULES_ONLY=$modules" \
      "-DWSLAB_LEARNER=$chapter" >"$build.configure.log" 2>&1; then
    cat "$build.configure.log"
    problem "configuring learner mode for $chapter failed"
    continue
  fi
  if ! cmake --build "$build" -j2 --target $targets >"$build.build.log" 2>&1; then
    tail -40 "$build.build.log"
    problem "the $chapter exercise does not build warning-free"
    continue
  fi
  # Chapters built on this one (learner-chapters.txt: "chapter: modules below").
  users=$(awk -v c="$chapter" '{ for (i = 2; i <= NF; i++) if ($i == c) { sub(":", "", $1); print $1 } }' \
          "$build/learner-chapters.txt" | tr '\n' ' ')
  for c in $chapters; do
    out=$("$build/tests/test_$c" --reporter narrated -s 2>&1)
    rc=$?
    verdict=$(printf '%s\n' "$out" | grep '^chapter ' | tail -1)
    counts=$(printf '%s\n' "$verdict" | grep -o '[0-9]*/[0-9]*' | head -1)
    passed=${counts%/*}
    total=${counts#*/}
    if [ -z "$counts" ]; then
      printf '%s\n' "$out" | tail -20
      problem "test_$c printed no verdict (crashed?), exit status $rc"
    elif [ "$c" = "$chapter" ]; then
      echo "  $c (the exercise): exit status $rc, $passed/$total test cases pass on the skeleton"
      printf '%s\n' "$out" | grep '^  ✓ ' | sed 's/^  ✓ /      still passes: /'
      [ "$rc" -ne 0 ] || problem "chapter $c passes on its untouched exercise"
      [ $((passed * 2)) -le "$total" ] || problem "more than half of chapter $c's test cases pass on its exercise"
    else
      case " $users " in
        *" $c "*) echo "  $c (built on $chapter, not judged): $passed/$total pass" ;;
        *)
          echo "  $c: $passed/$total pass"
          [ "$rc" -eq 0 ] || { printf '%s\n' "$out" | grep -v '^  ✓ ' | tail -30; problem "chapter $c fails with the $chapter exercise"; }
          ;;
      esac
    fi
  done
done

echo "the tests test: $(( $(date +%s) - start )) s, $problems problem(s)"
[ "$problems" -eq 0 ]
