// Autobahn|Testsuite group 6's UTF-8 cases, shared by both roles' tests
// (tests/conformance/server/group6_utf8.cpp, client/group6_utf8_test.cpp):
// the same table, whichever side sends it.
#pragma once

#include <string>
#include <vector>

namespace wslab::conformance::utf8_cases {

// "κόσμε" (Greek "cosmos", Kuhn's first example): 2-, 3-, 2-, 2-, 2-byte
// code points.
inline const std::string kKosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";

struct Utf8Vector {
  bool valid;
  std::string bytes;
};

struct Utf8Group {
  int number;        // 6.number
  const char* name;  // Autobahn's subcategory
  std::vector<Utf8Vector> vectors;
};

inline std::string range(int from, int to_exclusive, const std::string& after = {}) {
  std::string s;
  for (int c = from; c < to_exclusive; ++c) {
    s += static_cast<char>(c);
    s += after;
  }
  return s;
}

// The Autobahn suite's table (case6_x_x.py, after Kuhn's UTF-8-test.txt),
// group by group in its order, so section "6.g.i" is Autobahn's Case 6.g.i.
inline std::vector<Utf8Group> kuhn_groups() {
  std::vector<Utf8Group> g;
  g.push_back({5,
               "some valid UTF-8 sequences",
               {{true, "hello\x24world"},
                {true, "hello\xc2\xa2world"},
                {true, "hello\xe2\x82\xacworld"},
                {true, "hello\xf0\xa4\xad\xa2world"},
                {true, kKosme}}});
  {
    // Every prefix of kosme: valid when it ends on a character boundary
    // (after octets 2, 5, 7, 9 and 11: CE BA | E1 BD B9 | CF 83 | CE BC | CE B5).
    Utf8Group prefixes{6, "all prefixes of a valid UTF-8 string with multi-byte code points", {}};
    for (std::size_t n = 1; n <= kKosme.size(); ++n)
      prefixes.vectors.push_back({n == 2 || n == 5 || n == 7 || n == 9 || n == 11, kKosme.substr(0, n)});
    g.push_back(prefixes);
  }
  g.push_back({7,
               "first possible sequence of a certain length",
               {{true, std::string(1, '\0')},
                {true, "\xc2\x80"},
                {true, "\xe0\xa0\x80"},
                {true, "\xf0\x90\x80\x80"}}});
  g.push_back({8,
               "first possible sequence length 5 and 6 (invalid code points)",
               {{false, "\xf8\x88\x80\x80\x80"}, {false, "\xfc\x84\x80\x80\x80\x80"}}});
  g.push_back({9,
               "last possible sequence of a certain length",
               {{true, "\x7f"}, {true, "\xdf\xbf"}, {true, "\xef\xbf\xbf"}, {true, "\xf4\x8f\xbf\xbf"}}});
  g.push_back(
      {10,
       "last possible sequence length 4, 5 and 6 (invalid code points)",
       {{false, "\xf7\xbf\xbf\xbf"}, {false, "\xfb\xbf\xbf\xbf\xbf"}, {false, "\xfd\xbf\xbf\xbf\xbf\xbf"}}});
  g.push_back({11,
               "other boundary conditions",
               {{true, "\xed\x9f\xbf"},
                {true, "\xee\x80\x80"},
                {true, "\xef\xbf\xbd"},
                {true, "\xf4\x8f\xbf\xbf"},
                {false, "\xf4\x90\x80\x80"}}});
  g.push_back({12,
               "unexpected continuation bytes",
               {{false, "\x80"},
                {false, "\xbf"},
                {false, "\x80\xbf"},
                {false, "\x80\xbf\x80"},
                {false, "\x80\xbf\x80\xbf"},
                {false, "\x80\xbf\x80\xbf\x80"},
                {false, "\x80\xbf\x80\xbf\x80\xbf"},
                {false, range(0x80, 0xbf)}}});
  g.push_back({13,
               "lonely start characters",
               {{false, range(0xc0, 0xdf, " ")},
                {false, range(0xe0, 0xef, " ")},
                {false, range(0xf0, 0xf7, " ")},
                {false, range(0xf8, 0xfb, " ")},
                {false, range(0xfc, 0xfd, " ")}}});
  const std::vector<std::string> last_missing{
      "\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
      "\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"};
  {
    Utf8Group missing{14, "sequences with last continuation byte missing", {}};
    std::string all;
    for (const auto& s : last_missing) {
      missing.vectors.push_back({false, s});
      all += s;
    }
    g.push_back(missing);
    g.push_back({15, "concatenation of incomplete sequences", {{false, all}}});
  }
  g.push_back({16, "impossible bytes", {{false, "\xfe"}, {false, "\xff"}, {false, "\xfe\xfe\xff\xff"}}});
  g.push_back({17,
               "examples of an overlong ASCII character",
               {{false, "\xc0\xaf"},
                {false, "\xe0\x80\xaf"},
                {false, "\xf0\x80\x80\xaf"},
                {false, "\xf8\x80\x80\x80\xaf"},
                {false, "\xfc\x80\x80\x80\x80\xaf"}}});
  g.push_back({18,
               "maximum overlong sequences",
               {{false, "\xc1\xbf"},
                {false, "\xe0\x9f\xbf"},
                {false, "\xf0\x8f\xbf\xbf"},
                {false, "\xf8\x87\xbf\xbf\xbf"},
                {false, "\xfc\x83\xbf\xbf\xbf\xbf"}}});
  g.push_back({19,
               "overlong representation of the NUL character",
               {{false, "\xc0\x80"},
                {false, "\xe0\x80\x80"},
                {false, "\xf0\x80\x80\x80"},
                {false, "\xf8\x80\x80\x80\x80"},
                {false, "\xfc\x80\x80\x80\x80\x80"}}});
  g.push_back({20,
               "single UTF-16 surrogates",
               {{false, "\xed\xa0\x80"},
                {false, "\xed\xad\xbf"},
                {false, "\xed\xae\x80"},
                {false, "\xed\xaf\xbf"},
                {false, "\xed\xb0\x80"},
                {false, "\xed\xbe\x80"},
                {false, "\xed\xbf\xbf"}}});
  g.push_back({21,
               "paired UTF-16 surrogates",
               {{false, "\xed\xa0\x80\xed\xb0\x80"},
                {false, "\xed\xa0\x80\xed\xbf\xbf"},
                {false, "\xed\xad\xbf\xed\xb0\x80"},
                {false, "\xed\xad\xbf\xed\xbf\xbf"},
                {false, "\xed\xae\x80\xed\xb0\x80"},
                {false, "\xed\xae\x80\xed\xbf\xbf"},
                {false, "\xed\xaf\xbf\xed\xb0\x80"},
                {false, "\xed\xaf\xbf\xed\xbf\xbf"}}});
  {
    // Non-characters are valid UTF-8 (RFC 3629): U+FFFE, U+FFFF and the last
    // two code points of every plane, F[0-4] [89AB]F BF [BE-BF], without the
    // overlong F0 8F ... and what lies beyond U+10FFFF.
    Utf8Group nonchars{
        22, "non-character code points (valid UTF-8)", {{true, "\xef\xbf\xbe"}, {true, "\xef\xbf\xbf"}}};
    for (int z1 = 0xf0; z1 <= 0xf4; ++z1)
      for (int z2 : {0x8f, 0x9f, 0xaf, 0xbf}) {
        if (z1 == 0xf4 && z2 != 0x8f) continue;
        if (z1 == 0xf0 && z2 == 0x8f) continue;
        for (int z3 : {0xbe, 0xbf})
          nonchars.vectors.push_back({true, std::string{static_cast<char>(z1), static_cast<char>(z2),
                                                          '\xbf', static_cast<char>(z3)}});
      }
    g.push_back(nonchars);
  }
  g.push_back({23,
               "unicode specials (i.e. replacement char)",
               {{true, "\xef\xbf\xb9"},
                {true, "\xef\xbf\xba"},
                {true, "\xef\xbf\xbb"},
                {true, "\xef\xbf\xbc"},
                {true, "\xef\xbf\xbd"},
                {true, "\xef\xbf\xbe"},
                {true, "\xef\xbf\xbf"}}});
  return g;
}

}  // namespace wslab::conformance::utf8_cases
