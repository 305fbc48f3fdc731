# Learner mode's check targets: check_uri ... check_extensions, one per chapter, as
# in CS144's check0..checkN. Each is cumulative in course order, so
# `check_framing` runs the uri, handshake and framing tests: a later chapter
# never hides a regression in an earlier one. The test executables run with
# the "narrated" reporter (support/narrated_reporter.cpp) through
# support/check_chapters.cmake, which prints each chapter's verdict and exits
# non-zero if any chapter fails.
#
#   cmake --preset learner -DWSLAB_LEARNER=framing
#   cmake --build build/learner --target check_framing
set(WSLAB_COURSE_CHAPTERS uri handshake framing masking heartbeat close extensions)

# Chapter tests show byte vectors as hex when they fail.
foreach(chapter IN LISTS WSLAB_COURSE_CHAPTERS)
  if(TARGET test_${chapter})
    target_compile_options(test_${chapter} PRIVATE -include ${CMAKE_CURRENT_SOURCE_DIR}/support/bytes_as_hex.hpp)
  endif()
endforeach()

# Every module `chapter` is built on (transitively), to tell a learner that a
# chapter built from src/ also runs their code (framing masks with masking).
function(wslab_modules_below NAME OUT)
  set(below "")
  get_property(direct GLOBAL PROPERTY WSLAB_DEPS_${NAME})
  foreach(dep IN LISTS direct)
    string(REPLACE "wslab::" "" dep "${dep}")
    wslab_modules_below(${dep} deeper)
    list(APPEND below ${dep} ${deeper})
  endforeach()
  list(REMOVE_DUPLICATES below)
  set(${OUT} ${below} PARENT_SCOPE)
endfunction()

set(runs "")       # chapter=executable, in course order, "|"-separated
set(executables "")
foreach(chapter IN LISTS WSLAB_COURSE_CHAPTERS)
  if(NOT TARGET test_${chapter})
    continue()  # module not configured (WSLAB_MODULES_ONLY)
  endif()
  wslab_modules_below(${chapter} below)
  set(uses "")
  foreach(m IN LISTS below)
    if(m IN_LIST WSLAB_LEARNER)
      list(APPEND uses ${m})
    endif()
  endforeach()
  string(REPLACE ";" "," uses "${uses}")
  if(chapter IN_LIST WSLAB_LEARNER)
    set(origin "exercise")
  else()
    set(origin "src")
  endif()
  list(APPEND runs "${chapter}=${origin}=${uses}=$<TARGET_FILE:test_${chapter}>")
  list(APPEND executables test_${chapter})
  string(REPLACE ";" "|" runs_arg "${runs}")
  add_custom_target(check_${chapter}
    COMMAND ${CMAKE_COMMAND} "-DRUNS=${runs_arg}" -DTARGET=check_${chapter}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/support/check_chapters.cmake
    DEPENDS ${executables}
    USES_TERMINAL VERBATIM
    COMMENT "check_${chapter}: the chapter tests up to ${chapter}, in course order")
endforeach()

# For tests/lessons/tests_test.sh: each chapter and the modules it is built on.
set(lines "")
foreach(chapter IN LISTS WSLAB_COURSE_CHAPTERS)
  if(TARGET wslab_${chapter})
    wslab_modules_below(${chapter} below)
    string(REPLACE ";" " " below "${below}")
    string(APPEND lines "${chapter}: ${below}\n")
  endif()
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/learner-chapters.txt "${lines}")

# "The tests test" (issue 5): with each chapter's untouched exercise, that
# chapter's tests must fail and the chapters that do not use it must pass.
# It configures and builds its own learner-mode tree in tests-test/.
# Once per CI run is enough: the asan preset turns it off.
option(WSLAB_TESTS_TEST "Register the lessons' tests-test (builds its own learner tree)" ON)
file(GLOB exercises LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/lessons/*-*/exercise)
if(exercises AND WSLAB_TESTS_TEST)
  add_test(NAME "lessons: the tests test (each exercise fails its chapter)"
           COMMAND /bin/sh ${CMAKE_CURRENT_SOURCE_DIR}/lessons/tests_test.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/tests-test)
  set_tests_properties("lessons: the tests test (each exercise fails its chapter)"
                       PROPERTIES LABELS lessons TIMEOUT 2400)
endif()
