// Chapter 3: UTF-8 validation (RFC 6455 §5.6, §8.1; RFC 3629).
//
// The fast incremental validator is compared with the slow reference decoder
// on every sequence of up to 3 bytes and on random and mutated text, and both
// are checked against Markus Kuhn's UTF-8 decoder stress test (the cases of
// the Autobahn test suite's group 6), including where validation must stop.
#include <catch2/catch.hpp>

#include <wslab/framing.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace wslab::framing;

namespace {

// "CE BA" -> "\xCE\xBA"
std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// Whether some valid text starts with `prefix`. The ranges a continuation
// octet may take (RFC 3629 §4) each contain 0x80, 0x90, 0xA0 or 0xBF, so
// those four are enough to try as the (at most three) missing octets.
bool is_valid_prefix(std::string_view prefix) {
  const std::array<char, 4> tails = {'\x80', '\x90', '\xA0', '\xBF'};
  std::string text(prefix);
  const std::size_t n = prefix.size();
  text.resize(n + 3);
  auto valid_with = [&](std::size_t extra) {
    return is_valid_utf8_reference(std::string_view(text).substr(0, n + extra));
  };
  if (valid_with(0)) return true;
  for (char a : tails) {
    text[n] = a;
    if (valid_with(1)) return true;
    for (char b : tails) {
      text[n + 1] = b;
      if (valid_with(2)) return true;
      for (char c : tails) {
        text[n + 2] = c;
        if (valid_with(3)) return true;
      }
    }
  }
  return false;
}

// The validator stops at the first octet that no valid text could continue
// with: what it accepted is a valid prefix, one octet more is not.
bool stops_at_first_bad_octet(const std::string& text) {
  Utf8Validator v;
  if (v.feed(text)) return true;
  const auto n = static_cast<std::size_t>(v.valid_bytes());
  const std::string_view view(text);
  return n < text.size() && is_valid_prefix(view.substr(0, n)) &&
         !is_valid_prefix(view.substr(0, n + 1));
}

// Feeding in the given pieces gives the same verdict as feeding at once.
void check_pieces(const std::string& text, const std::vector<std::size_t>& cuts) {
  Utf8Validator whole;
  const bool whole_ok = whole.feed(text);
  Utf8Validator pieces;
  bool ok = true;
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    ok = pieces.feed(std::string_view(text).substr(from, cut - from));
    from = cut;
  }
  ok = pieces.feed(std::string_view(text).substr(from));
  CHECK(ok == whole_ok);
  CHECK(pieces.valid_bytes() == whole.valid_bytes());
  CHECK(pieces.complete() == whole.complete());
}

std::string encode_utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

enum class Verdict { valid, invalid, truncated };

struct Case {
  const char* name;
  std::string text;
  Verdict verdict;
  std::size_t bad_at = 0;  // for invalid: the offset of the first bad octet
};

void check_case(const Case& c) {
  INFO(c.name);
  CHECK(is_valid_utf8(c.text) == (c.verdict == Verdict::valid));
  CHECK(is_valid_utf8_reference(c.text) == (c.verdict == Verdict::valid));

  Utf8Validator v;
  const bool fed = v.feed(c.text);
  switch (c.verdict) {
    case Verdict::valid:
      CHECK(fed);
      CHECK(v.complete());
      CHECK(v.valid_bytes() == c.text.size());
      break;
    case Verdict::truncated:  // fine so far, but it cannot end here
      CHECK(fed);
      CHECK(v.ok());
      CHECK_FALSE(v.complete());
      break;
    case Verdict::invalid:
      CHECK_FALSE(fed);
      CHECK_FALSE(v.ok());
      CHECK(v.valid_bytes() == c.bad_at);
      break;
  }

  // One octet at a time: it fails exactly on the bad octet, not before.
  Utf8Validator bytewise;
  for (std::size_t i = 0; i < c.text.size(); ++i) {
    const bool ok = bytewise.feed(std::string_view(c.text).substr(i, 1));
    if (c.verdict == Verdict::invalid && i >= c.bad_at) {
      CHECK_FALSE(ok);
    } else {
      CHECK(ok);
    }
  }
  CHECK(bytewise.valid_bytes() == v.valid_bytes());
  CHECK(bytewise.complete() == v.complete());
}

}  // namespace

TEST_CASE("U8-1 Kuhn 1-2: correct text and the boundary code points are valid", "[framing]") {
  const std::vector<Case> cases = {
      {"1 kosme", from_hex("CE BA E1 BD B9 CF 83 CE BC CE B5"), Verdict::valid},
      {"2.1.1 U+0000", std::string(1, '\0'), Verdict::valid},
      {"2.1.2 U+0080", from_hex("C2 80"), Verdict::valid},
      {"2.1.3 U+0800", from_hex("E0 A0 80"), Verdict::valid},
      {"2.1.4 U+10000", from_hex("F0 90 80 80"), Verdict::valid},
      {"2.2.1 U+007F", from_hex("7F"), Verdict::valid},
      {"2.2.2 U+07FF", from_hex("DF BF"), Verdict::valid},
      {"2.2.3 U+FFFF", from_hex("EF BF BF"), Verdict::valid},
      {"2.3.1 U+D7FF", from_hex("ED 9F BF"), Verdict::valid},
      {"2.3.2 U+E000", from_hex("EE 80 80"), Verdict::valid},
      {"2.3.3 U+FFFD", from_hex("EF BF BD"), Verdict::valid},
      {"2.3.4 U+10FFFF", from_hex("F4 8F BF BF"), Verdict::valid},
      // Noncharacters are valid UTF-8 (and Autobahn 6.x expects them to pass).
      {"5.3.1 U+FFFE", from_hex("EF BF BE"), Verdict::valid},
      {"5.3.3 U+FDD0", from_hex("EF B7 90"), Verdict::valid},
      {"5.3.4 U+10FFFE", from_hex("F4 8F BF BE"), Verdict::valid},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-1 valid multilingual text passes, whole and split at every byte", "[framing]") {
  const std::vector<std::string> texts = {
      "Hello-µ@ßöäüàá-UTF-8!!",
      "Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ ξέφωτο",
      "В чащах юга жил бы цитрус? Да, но фальшивый экземпляр!",
      "いろはにほへとちりぬるを わかよたれそつねならむ",
      "๏ เป็นมนุษย์สุดประเสริฐเลิศคุณค่า",
      "דג סקרן שט בים מאוכזב ולפתע מצא לו חברה",
      "∮ E⋅da = Q,  n → ∞, ∑ f(i) = ∏ g(i)",
      "emoji 😀🎉 and 𝄞 beyond the BMP",
  };
  for (const std::string& text : texts) {
    INFO(text);
    CHECK(is_valid_utf8(text));
    CHECK(is_valid_utf8_reference(text));
    for (std::size_t cut = 0; cut <= text.size(); ++cut) check_pieces(text, {cut});
  }
}

TEST_CASE("U8-2 Kuhn 2-3: beyond U+10FFFF, stray continuations, lonely and impossible octets",
          "[framing]") {
  const std::vector<Case> cases = {
      {"2.1.5 5-byte sequence", from_hex("F8 88 80 80 80"), Verdict::invalid, 0},
      {"2.1.6 6-byte sequence", from_hex("FC 84 80 80 80 80"), Verdict::invalid, 0},
      {"2.2.4 U+1FFFFF", from_hex("F7 BF BF BF"), Verdict::invalid, 0},
      {"2.3.5 U+110000", from_hex("F4 90 80 80"), Verdict::invalid, 1},
      {"3.1.1 first continuation byte", from_hex("80"), Verdict::invalid, 0},
      {"3.1.2 last continuation byte", from_hex("BF"), Verdict::invalid, 0},
      {"3.1.3 two continuation bytes", from_hex("80 BF"), Verdict::invalid, 0},
      {"3.1.x continuation after ASCII", "abc\x80", Verdict::invalid, 3},
      {"3.1.x continuation after a character", from_hex("C2 80 80"), Verdict::invalid, 2},
      {"3.2.1 lonely C0", from_hex("C0 20"), Verdict::invalid, 0},
      {"3.2.1 lonely DF", from_hex("DF 20"), Verdict::invalid, 1},
      {"3.2.2 lonely E0", from_hex("E0 20"), Verdict::invalid, 1},
      {"3.2.2 lonely EF", from_hex("EF 20"), Verdict::invalid, 1},
      {"3.2.3 lonely F0", from_hex("F0 20"), Verdict::invalid, 1},
      {"3.2.3 lonely F4", from_hex("F4 20"), Verdict::invalid, 1},
      {"3.2.3 lonely F5", from_hex("F5 20"), Verdict::invalid, 0},
      {"3.3.6 E1 80 then ASCII", from_hex("E1 80 41"), Verdict::invalid, 2},
      {"3.4 concatenated incomplete sequences", from_hex("C2 E0 A0 F0 90 80"), Verdict::invalid, 1},
      {"3.5.1 FE", from_hex("FE"), Verdict::invalid, 0},
      {"3.5.2 FF", from_hex("FF"), Verdict::invalid, 0},
      {"3.5.3 FE FE FF FF", from_hex("FE FE FF FF"), Verdict::invalid, 0},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-2 Kuhn 3.3: a sequence with its last octet missing is truncated, not invalid",
          "[framing]") {
  const std::vector<Case> cases = {
      {"3.3.1 C2", from_hex("C2"), Verdict::truncated},
      {"3.3.2 E0 A0", from_hex("E0 A0"), Verdict::truncated},
      {"3.3.3 F0 90 80", from_hex("F0 90 80"), Verdict::truncated},
      {"3.3.7 DF", from_hex("DF"), Verdict::truncated},
      {"3.3.8 EF BF", from_hex("EF BF"), Verdict::truncated},
      {"3.3.9 F4 8F BF", from_hex("F4 8F BF"), Verdict::truncated},
      {"text then E2 82", "price: " + from_hex("E2 82"), Verdict::truncated},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-2 Kuhn 4: overlong forms fail at the first octet that makes them overlong",
          "[framing]") {
  const std::vector<Case> cases = {
      {"4.1.1 '/' in 2 bytes", from_hex("C0 AF"), Verdict::invalid, 0},
      {"4.1.2 '/' in 3 bytes", from_hex("E0 80 AF"), Verdict::invalid, 1},
      {"4.1.3 '/' in 4 bytes", from_hex("F0 80 80 AF"), Verdict::invalid, 1},
      {"4.1.4 '/' in 5 bytes", from_hex("F8 80 80 80 AF"), Verdict::invalid, 0},
      {"4.1.5 '/' in 6 bytes", from_hex("FC 80 80 80 80 AF"), Verdict::invalid, 0},
      {"4.2.1 U+007F in 2 bytes", from_hex("C1 BF"), Verdict::invalid, 0},
      {"4.2.2 U+07FF in 3 bytes", from_hex("E0 9F BF"), Verdict::invalid, 1},
      {"4.2.3 U+FFFF in 4 bytes", from_hex("F0 8F BF BF"), Verdict::invalid, 1},
      {"4.3.1 NUL in 2 bytes", from_hex("C0 80"), Verdict::invalid, 0},
      {"4.3.2 NUL in 3 bytes", from_hex("E0 80 80"), Verdict::invalid, 1},
      {"4.3.3 NUL in 4 bytes", from_hex("F0 80 80 80"), Verdict::invalid, 1},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-2 Kuhn 5: UTF-16 surrogates, single or paired, are invalid", "[framing]") {
  const std::vector<Case> cases = {
      {"5.1.1 U+D800", from_hex("ED A0 80"), Verdict::invalid, 1},
      {"5.1.2 U+DB7F", from_hex("ED AD BF"), Verdict::invalid, 1},
      {"5.1.3 U+DB80", from_hex("ED AE 80"), Verdict::invalid, 1},
      {"5.1.4 U+DBFF", from_hex("ED AF BF"), Verdict::invalid, 1},
      {"5.1.5 U+DC00", from_hex("ED B0 80"), Verdict::invalid, 1},
      {"5.1.6 U+DF80", from_hex("ED BE 80"), Verdict::invalid, 1},
      {"5.1.7 U+DFFF", from_hex("ED BF BF"), Verdict::invalid, 1},
      {"5.2.1 U+D800 U+DC00", from_hex("ED A0 80 ED B0 80"), Verdict::invalid, 1},
      {"5.2.8 U+DBFF U+DFFF", from_hex("ED AF BF ED BF BF"), Verdict::invalid, 1},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-2 fail fast: valid text then a bad sequence stops at the bad octet (Autobahn 6.4)",
          "[framing]") {
  const std::string kosme = from_hex("CE BA E1 BD B9 CF 83 CE BC CE B5");
  const std::vector<Case> cases = {
      {"6.4.1 kosme U+110000 edited", kosme + from_hex("F4 90 80 80") + "edited", Verdict::invalid,
       12},
      {"6.4.3 kosme F4 90 80 80 truncated", kosme + from_hex("F4 90"), Verdict::invalid, 12},
      {"surrogate inside ASCII", "Hello " + from_hex("ED A0 80") + "world", Verdict::invalid, 7},
      {"C0 after 20 ASCII octets", std::string(20, 'a') + from_hex("C0 80"), Verdict::invalid, 20},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("U8-1 exhaustive: every sequence of 1, 2 and 3 bytes gets the reference verdict",
          "[framing]") {
  // The counts of valid sequences follow from RFC 3629: 128 one-octet,
  // 1920 two-octet (C2-DF x 80-BF) and 61440 three-octet characters
  // (U+0800..U+FFFF less 2048 surrogates).
  std::size_t valid1 = 0, valid2 = 0, valid3 = 0, disagreements = 0, bad_offsets = 0;
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    const bool ok = is_valid_utf8(s);
    disagreements += ok != is_valid_utf8_reference(s);
    valid1 += ok;
  }
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      s = {static_cast<char>(a), static_cast<char>(b)};
      const bool ok = is_valid_utf8(s);
      disagreements += ok != is_valid_utf8_reference(s);
      valid2 += ok;
      bad_offsets += !stops_at_first_bad_octet(s);
    }
  s.assign(3, '\0');
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c = 0; c < 256; ++c) {
        s[0] = static_cast<char>(a);
        s[1] = static_cast<char>(b);
        s[2] = static_cast<char>(c);
        const bool ok = is_valid_utf8(s);
        disagreements += ok != is_valid_utf8_reference(s);
        valid3 += ok;
      }
  CHECK(disagreements == 0);
  CHECK(bad_offsets == 0);
  CHECK(valid1 == 128);
  CHECK(valid2 == 128 * 128 + 1920);
  CHECK(valid3 == 128 * 128 * 128 + 2 * 128 * 1920 + 61440);
}

TEST_CASE("U8-1 4-byte sequences: every lead octet with boundary continuation octets",
          "[framing]") {
  const std::array<int, 12> tails = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                     0xA0, 0xBF, 0xC0, 0xC2, 0xF4, 0xFF};
  std::size_t disagreements = 0, bad_offsets = 0;
  for (int a = 0; a < 256; ++a)
    for (int b : tails)
      for (int c : tails)
        for (int d : tails) {
          const std::string s = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                                 static_cast<char>(d)};
          disagreements += is_valid_utf8(s) != is_valid_utf8_reference(s);
          // Where it stops, for the leads of multi-octet characters (and C0,
          // C1, F5-FF); the rest is covered by the exhaustive test above.
          if (a >= 0xC0) bad_offsets += !stops_at_first_bad_octet(s);
        }
  CHECK(disagreements == 0);
  CHECK(bad_offsets == 0);
  // Every code point of planes 1-16, spot-checked every 251 code points.
  for (char32_t cp = 0x10000; cp <= 0x10FFFF; cp += 251) {
    const std::string s = encode_utf8(cp);
    if (!is_valid_utf8(s)) FAIL("U+" << std::hex << static_cast<std::uint32_t>(cp));
  }
}

TEST_CASE("U8-1 property: random text, mutated, agrees with the reference, in any pieces",
          "[framing]") {
  std::mt19937 rng(6455);
  auto uniform = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  // Code points from each encoded length, surrogates excluded.
  auto random_code_point = [&]() -> char32_t {
    switch (uniform(0, 3)) {
      case 0: return static_cast<char32_t>(uniform(0, 0x7F));
      case 1: return static_cast<char32_t>(uniform(0x80, 0x7FF));
      case 2: {
        const auto cp = static_cast<char32_t>(uniform(0x800, 0xFFFF - 0x800));
        return cp < 0xD800 ? cp : cp + 0x800;
      }
      default: return static_cast<char32_t>(uniform(0x10000, 0x10FFFF));
    }
  };

  std::size_t valid = 0, invalid = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const std::size_t characters = uniform(0, 40);
    for (std::size_t i = 0; i < characters; ++i) text += encode_utf8(random_code_point());
    REQUIRE(is_valid_utf8_reference(text));

    // Mutate most of them: flip an octet, insert one, delete one, or cut the end.
    const std::size_t mutations = round % 4 == 0 ? 0 : uniform(1, 3);
    for (std::size_t m = 0; m < mutations && !text.empty(); ++m) {
      const std::size_t at = uniform(0, text.size() - 1);
      switch (uniform(0, 3)) {
        case 0: text[at] = static_cast<char>(rng()); break;
        case 1: text.insert(at, 1, static_cast<char>(rng())); break;
        case 2: text.erase(at, 1); break;
        default: text.resize(at); break;
      }
    }
    INFO("round " << round);
    const bool ok = is_valid_utf8(text);
    CHECK(ok == is_valid_utf8_reference(text));
    (ok ? valid : invalid) += 1;
    CHECK(stops_at_first_bad_octet(text));
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < text.size(); at += uniform(1, 9)) cuts.push_back(at);
    check_pieces(text, cuts);
  }
  // The mutations must have produced both kinds, or the test tested little.
  CHECK(valid > 500);
  CHECK(invalid > 500);
}

TEST_CASE("U8-1 the 8-octet ASCII fast path stops on a bad octet at any position", "[framing]") {
  for (std::size_t at = 0; at < 40; ++at) {
    INFO("bad octet at " << at);
    std::string text(48, 'a');
    text[at] = '\xFF';
    Utf8Validator v;
    CHECK_FALSE(v.feed(text));
    CHECK(v.valid_bytes() == at);

    // A two-octet character at any alignment is accepted...
    std::string good(48, 'a');
    good.replace(at, 2, from_hex("C3 A9"));
    CHECK(is_valid_utf8(good));
    // ...and a lead octet followed by ASCII fails on the ASCII octet.
    std::string lonely(48, 'a');
    lonely[at] = '\xC3';
    Utf8Validator w;
    CHECK_FALSE(w.feed(lonely));
    CHECK(w.valid_bytes() == at + 1);
  }
}

TEST_CASE("U8-1 state carries across feeds: a character may be split anywhere", "[framing]") {
  Utf8Validator v;
  CHECK(v.feed(from_hex("E2")));  // the euro sign, E2 82 AC, in three feeds
  CHECK(v.ok());
  CHECK_FALSE(v.complete());
  CHECK(v.feed(from_hex("82")));
  CHECK_FALSE(v.complete());
  CHECK(v.feed(std::string_view{}));  // an empty feed changes nothing
  CHECK(v.feed(from_hex("AC")));
  CHECK(v.complete());
  CHECK(v.valid_bytes() == 3);

  SECTION("the range after ED is remembered across a feed") {
    Utf8Validator w;
    CHECK(w.feed(from_hex("41 ED")));
    CHECK_FALSE(w.feed(from_hex("A0 80")));  // U+D800
    CHECK(w.valid_bytes() == 2);
  }
  SECTION("the span overload is the same") {
    Utf8Validator w;
    const std::array<std::uint8_t, 4> emoji = {0xF0, 0x9F, 0x98, 0x80};
    CHECK(w.feed(std::span<const std::uint8_t>(emoji).first(1)));
    CHECK(w.feed(std::span<const std::uint8_t>(emoji).subspan(1)));
    CHECK(w.complete());
  }
}

TEST_CASE("U8-2 after the first bad octet the validator stays failed until reset", "[framing]") {
  Utf8Validator v;
  CHECK_FALSE(v.feed(from_hex("61 62 C0 63")));
  CHECK(v.valid_bytes() == 2);
  CHECK_FALSE(v.feed("plain ASCII"));
  CHECK_FALSE(v.ok());
  CHECK_FALSE(v.complete());
  CHECK(v.valid_bytes() == 2);
  v.reset();
  CHECK(v.ok());
  CHECK(v.complete());
  CHECK(v.valid_bytes() == 0);
  CHECK(v.feed("plain ASCII"));
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8_reference(""));
}
