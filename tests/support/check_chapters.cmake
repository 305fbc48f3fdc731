# Runs chapter test executables in course order with the narrated reporter
# and sums up; called by the check_<chapter> targets (tests/learner.cmake).
#   cmake -DRUNS="uri=src==/path/test_uri|framing=exercise==/path/test_framing"
#         -DTARGET=check_framing -P check_chapters.cmake
# Each run is chapter=origin=learner modules it links=executable. Exit status
# 0 when every chapter passes, 1 otherwise.
cmake_minimum_required(VERSION 3.25)  # lists keep empty elements (CMP0007)
string(REPLACE "|" ";" RUNS "${RUNS}")
set(failed "")
set(summary "")
set(n 0)
list(LENGTH RUNS total)
foreach(run IN LISTS RUNS)
  math(EXPR n "${n} + 1")
  string(REPLACE "=" ";" fields "${run}")
  list(GET fields 0 chapter)
  list(GET fields 1 origin)
  list(GET fields 2 uses)
  list(GET fields 3 exe)
  if(origin STREQUAL "exercise")
    set(from "your code in lessons/*-${chapter}/exercise")
  else()
    set(from "src/${chapter}")
  endif()
  if(uses)
    string(REPLACE "," ", " uses_text "${uses}")
    string(APPEND from ", which runs your ${uses_text}")
  endif()
  message("")
  message("== ${TARGET}: chapter ${n}/${total}, ${chapter} (tests/${chapter}, built from ${from})")
  # --order lex: test cases by name, so by requirement id (FR-1, FR-2, ...),
  # which follows the chapter's order better than the order of the files.
  execute_process(COMMAND ${exe} --reporter narrated --order lex RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    list(APPEND summary "  ✓ ${chapter}")
  else()
    list(APPEND failed ${chapter})
    list(APPEND summary "  ✗ ${chapter}")
  endif()
endforeach()

message("")
message("${TARGET}:")
foreach(line IN LISTS summary)
  message("${line}")
endforeach()
if(failed)
  list(GET failed 0 first)
  list(JOIN failed ", " failed_text)
  # FATAL_ERROR makes the exit status non-zero (and the build target fail).
  message(FATAL_ERROR "${TARGET} FAILS: ${failed_text}; start with the first failure narrated under chapter ${first}")
endif()
message("${TARGET} passes (exit status 0): every chapter up to this one")
