// Chapter 2 tests: the Sec-WebSocket-Extensions grammar (RFC 6455 §9.1).
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;
using wslab::error;

namespace {

std::vector<Extension> parsed(const std::string& value) {
  INFO("Sec-WebSocket-Extensions: " << value);
  auto result = parse_extensions(value);
  if (!result.ok()) FAIL(result.violation().message());
  return result.value();
}

}  // namespace

TEST_CASE("EX-2 parse_extensions reads RFC 7692 permessage-deflate offers", "[handshake]") {
  const auto list =
      parsed("permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate");
  REQUIRE(list.size() == 2);
  CHECK(list[0].name == "permessage-deflate");
  CHECK(list[0].params == std::vector<ExtensionParam>{{"client_max_window_bits", std::nullopt},
                                                      {"server_max_window_bits", "10"}});
  CHECK(list[1] == Extension{"permessage-deflate", {}});
}

TEST_CASE("EX-2 parse_extensions tolerates whitespace around list, parameter and value separators",
          "[handshake]") {
  const std::string value =
      GENERATE("foo;a=1;b,bar", "  foo ; a = 1 ;\tb , bar  ", "foo;a= 1; b ,\tbar", "foo ;a =\"1\"; b, bar");
  const auto list = parsed(value);
  CHECK(list ==
        std::vector<Extension>{Extension{"foo", {{"a", "1"}, {"b", std::nullopt}}}, Extension{"bar", {}}});
}

TEST_CASE("EX-2 quoted-string values come unquoted, with backslash escapes undone", "[handshake]") {
  CHECK(parsed("x; bits=\"15\"")[0].params[0].value == "15");
  CHECK(parsed("x; bits=\"1\\5\"")[0].params[0].value == "15");
  CHECK(parsed("x; tag=\"a-b.c\"")[0].params[0].value == "a-b.c");
  // The list goes on after a quoted value.
  const auto list = parsed("x; v=\"a\\-b\", y");
  REQUIRE(list.size() == 2);
  CHECK(list[0].params[0].value == "a-b");
  CHECK(list[1].name == "y");
}

TEST_CASE("EX-2 bad_extension_header: anything outside the §9.1 grammar", "[handshake]") {
  const auto [value, why] = GENERATE(table<std::string, std::string>({
      {"", "the extension list is empty"},
      {"   ", "the extension list is empty"},
      {",", "empty list element at offset 0"},
      {"foo,", "empty list element at offset 4"},
      {", foo", "empty list element at offset 0"},
      {"foo,,bar", "empty list element at offset 4"},
      {"foo, ,bar", "empty list element at offset 5"},
      {"foo;", "expected a parameter name (a token) after \";\" at the end"},
      {"foo;;a", "expected a parameter name (a token) after \";\" at offset 4, found ';'"},
      {"foo; =1", "expected a parameter name (a token) after \";\" at offset 5, found '='"},
      {"foo; a=", "expected a parameter value (a token or a quoted-string) after \"=\" at the end"},
      {"foo; a=,bar",
       "expected a parameter value (a token or a quoted-string) after \"=\" at offset 7, found ','"},
      {"foo bar", "expected \",\" or \";\" at offset 4, found 'b'"},
      {"foo; a=1 2", "expected \",\" or \";\" at offset 9, found '2'"},
      {"foo; a=b=c", "expected \",\" or \";\" at offset 8, found '='"},
      {"@foo", "expected an extension name (a token) at offset 0, found '@'"},
      {"foo; a=\"1", "quoted-string at offset 7 has no closing '\"'"},
      {"foo; a=\"1\\", "quoted-string at offset 7 has no closing '\"'"},
      {"foo; a=\"1 2\"", "quoted value \"1 2\" at offset 7 is not a token after unescaping"},
      {"foo; a=\"\"", "quoted value \"\" at offset 7 is not a token after unescaping"},
      {"foo; a=\"x\x01\"", "control character in the quoted-string at offset 9"},
      {"foo; a=\"x\"y", "expected \",\" or \";\" at offset 10, found 'y'"},
  }));
  INFO("Sec-WebSocket-Extensions: " << value);
  const auto result = parse_extensions(value);
  REQUIRE_FALSE(result.ok());
  CHECK(result.violation().id() == error::bad_extension_header);
  CHECK(result.violation().http_status() == 400);
  CHECK(result.violation().detail() == why + " in \"" + value + "\"");
}

TEST_CASE("EX-2 Extension::to_string and format_extensions write the §9.1 form", "[handshake]") {
  const Extension pmd{"permessage-deflate", {{"client_max_window_bits", std::nullopt}}};
  CHECK(pmd.to_string() == "permessage-deflate; client_max_window_bits");
  const Extension bits{"permessage-deflate", {{"server_max_window_bits", "10"}}};
  CHECK(format_extensions(std::vector<Extension>{pmd, bits}) ==
        "permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10");
  CHECK(format_extensions(std::vector<Extension>{}).empty());
  // A value that is not a token goes out quoted, with '"' and '\' escaped.
  const Extension odd{"x", {{"v", "a \"b\" \\c"}}};
  CHECK(odd.to_string() == "x; v=\"a \\\"b\\\" \\\\c\"");
}

TEST_CASE("EX-2 format then parse gives back the same extensions (fixed-seed property)", "[handshake]") {
  std::mt19937 rng(6455);
  const std::string tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto token = [&] {
    std::string t;
    const int length = std::uniform_int_distribution<int>(1, 12)(rng);
    for (int i = 0; i < length; ++i)
      t += tchars[std::uniform_int_distribution<std::size_t>(0, tchars.size() - 1)(rng)];
    return t;
  };
  for (int round = 0; round < 500; ++round) {
    std::vector<Extension> list(std::uniform_int_distribution<int>(1, 4)(rng));
    for (Extension& e : list) {
      e.name = token();
      e.params.resize(std::uniform_int_distribution<std::size_t>(0, 3)(rng));
      for (ExtensionParam& p : e.params) {
        p.name = token();
        if (rng() % 2) p.value = token();
      }
    }
    const std::string text = format_extensions(list);
    INFO(text);
    const auto back = parse_extensions(text);
    REQUIRE(back.ok());
    REQUIRE(back.value() == list);
  }
}
