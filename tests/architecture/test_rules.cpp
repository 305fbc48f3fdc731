// The rule book itself: every rule is complete and its message names it.
#include <catch2/catch.hpp>

#include <wslab/rules.hpp>

#include <set>
#include <string>

using wslab::error;
using wslab::Violation;

TEST_CASE("every rule has a name, a checklist ID, a section and a summary", "[architecture]") {
  std::set<std::string_view> names;
  for (const auto& r : wslab::all_rules()) {
    INFO(r.name);
    CHECK_FALSE(r.name.empty());
    CHECK(names.insert(r.name).second);  // names are unique
    CHECK_FALSE(r.checklist_id.empty());
    CHECK(r.section.substr(0, 4) == "RFC ");
    CHECK_FALSE(r.summary.empty());
    CHECK(&wslab::rule(r.id) == &r);
  }
}

TEST_CASE("a rule leads to a close code after the handshake or an HTTP status before it", "[architecture]") {
  for (const auto& r : wslab::all_rules()) {
    INFO(r.name);
    CHECK_FALSE((r.close_code != 0 && r.http_status != 0));
    if (r.close_code != 0) CHECK((r.close_code >= 1000 && r.close_code <= 1015));
    if (r.http_status != 0) CHECK((r.http_status >= 400 && r.http_status <= 599));
  }
  CHECK(wslab::rule(error::bad_control_size).close_code == 1002);
  CHECK(wslab::rule(error::bad_utf8).close_code == 1007);
  CHECK(wslab::rule(error::message_too_big).close_code == 1009);
  CHECK(wslab::rule(error::bad_sec_version).http_status == 426);
  CHECK(wslab::rule(error::request_too_large).http_status == 431);
}

TEST_CASE("a violation's message names the consequence, the facts and the section", "[architecture]") {
  const Violation v(error::bad_control_size, "control frame payload 126 > 125");
  CHECK(v.message() == "1002: control frame payload 126 > 125 (RFC 6455 §5.5)");
  const Violation h(error::bad_sec_version, "Sec-WebSocket-Version is 8, only 13 is supported");
  CHECK(h.message() == "426: Sec-WebSocket-Version is 8, only 13 is supported (RFC 6455 §4.2.2)");
  const Violation c(error::bad_status, "status 200");
  CHECK(c.message() == "status 200 (RFC 6455 §4.1)");
  const Violation empty(error::bad_opcode, "");
  CHECK(empty.message() == "1002: the opcode is one of 0, 1, 2, 8, 9, A (RFC 6455 §5.2)");
}

TEST_CASE("Result holds either a value or the violation", "[architecture]") {
  wslab::Result<int> ok = 42;
  REQUIRE(ok.ok());
  CHECK(*ok == 42);
  wslab::Result<int> bad = Violation(error::bad_opcode, "opcode 0x3 is reserved");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.violation().id() == error::bad_opcode);
  CHECK(bad.violation().close_code() == 1002);
}
