# One `fuzz: <name>` CTest entry (see CMakeLists.txt):
#   cmake -DFUZZER=<exe> -DSEEDS=<corpus dir> -DWORK=<dir> [-DDICT=<file>]
#         -DSECONDS=30 -DINPUT_TIMEOUT=10 -DRSS_LIMIT_MB=2048 -P run_fuzz.cmake
# Fuzzes a fresh copy of the seed corpus in WORK (the repository's corpus is
# only read) for SECONDS. Fails if libFuzzer exits non-zero (a crash, a leak,
# an UBSan report, a timeout, running out of memory or a failed FUZZ_CHECK) or
# left any artifact (crash-, leak-, timeout-, oom-, slow-unit-).
foreach(v FUZZER SEEDS WORK SECONDS INPUT_TIMEOUT RSS_LIMIT_MB)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzz.cmake: -D${v}= is missing")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${SEEDS}")
  message(FATAL_ERROR "run_fuzz.cmake: no seed corpus at ${SEEDS}")
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds "${SEEDS}/*")
file(COPY ${seeds} DESTINATION "${WORK}/corpus")

set(args -max_total_time=${SECONDS} -timeout=${INPUT_TIMEOUT} -rss_limit_mb=${RSS_LIMIT_MB}
         -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
string(JOIN " " shown ${args})
message(STATUS "${FUZZER} ${shown} ${WORK}/corpus")
execute_process(COMMAND "${FUZZER}" ${args} "${WORK}/corpus"
                WORKING_DIRECTORY "${WORK}"
                RESULT_VARIABLE rc)

file(GLOB artifacts "${WORK}/artifacts/*")
if(NOT rc EQUAL 0 OR artifacts)
  message(FATAL_ERROR "libFuzzer exited with ${rc}; artifacts: ${artifacts}\n"
                      "Reproduce: ${FUZZER} <artifact>; minimise: ${FUZZER} -minimize_crash=1 "
                      "-runs=10000 <artifact> (docs/fuzzing.md)")
endif()
file(GLOB corpus "${WORK}/corpus/*")
list(LENGTH seeds n_seeds)
list(LENGTH corpus n_corpus)
message(STATUS "no findings; corpus ${n_seeds} seeds -> ${n_corpus} inputs")
