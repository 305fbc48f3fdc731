// RFC 7692 §5 and §7.1: negotiating permessage-deflate, the parameters one by
// one and together, in both roles.
#include "receiver.hpp"

#include <catch2/catch.hpp>

using namespace wslab;
using namespace wslab::testing;
using namespace wslab::extensions;

namespace {

// One Sec-WebSocket-Extensions value, parsed by the handshake chapter.
std::vector<handshake::Extension> header(std::string_view value) {
  auto parsed = handshake::parse_extensions(value);
  REQUIRE(parsed.ok());
  return *parsed;
}

handshake::Extension element(std::string_view value) {
  auto list = header(value);
  REQUIRE(list.size() == 1);
  return list[0];
}

std::string describe(const Agreement& a) {
  return std::string(a.server_no_context_takeover ? "snct " : "") + (a.client_no_context_takeover ? "cnct " : "") +
         "s" + std::to_string(a.server_max_window_bits) + " c" + std::to_string(a.client_max_window_bits);
}

}  // namespace

// --- PMD-1: the four parameters ------------------------------------------------------

TEST_CASE("PMD-1 an offer may carry each of the four parameters, the window sizes 8 to 15", "[extensions]") {
  CHECK(*parse_parameters(element("permessage-deflate"), Element::offer) == Parameters{});
  auto p = parse_parameters(element("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                                    "server_max_window_bits=10; client_max_window_bits=12"),
                            Element::offer);
  REQUIRE(p.ok());
  CHECK(p->server_no_context_takeover);
  CHECK(p->client_no_context_takeover);
  CHECK(p->server_max_window_bits == 10);
  CHECK(p->client_max_window_bits);
  CHECK(p->client_max_window_bits_value == 12);

  const int bits = GENERATE(range(8, 16));
  const std::string n = std::to_string(bits);
  auto s = parse_parameters(element("permessage-deflate; server_max_window_bits=" + n), Element::offer);
  REQUIRE(s.ok());
  CHECK(s->server_max_window_bits == bits);
  auto c = parse_parameters(element("permessage-deflate; client_max_window_bits=\"" + n + "\""), Element::response);
  REQUIRE(c.ok());  // a quoted-string value is the same value (RFC 6455 §9.1)
  CHECK(c->client_max_window_bits_value == bits);
}

TEST_CASE("PMD-1 client_max_window_bits may come without a value in an offer, never in a response", "[extensions]") {
  auto offer = parse_parameters(element("permessage-deflate; client_max_window_bits"), Element::offer);
  REQUIRE(offer.ok());
  CHECK(offer->client_max_window_bits);
  CHECK_FALSE(offer->client_max_window_bits_value);
  auto response = parse_parameters(element("permessage-deflate; client_max_window_bits"), Element::response);
  REQUIRE_FALSE(response.ok());
  CHECK(response.violation().id() == error::bad_deflate_parameter);
}

TEST_CASE("PMD-1 parameters are written back in the order of 7.1", "[extensions]") {
  Parameters p;
  p.client_max_window_bits = true;
  CHECK(to_extension(p).to_string() == "permessage-deflate; client_max_window_bits");
  p.client_max_window_bits_value = 10;
  p.server_max_window_bits = 9;
  p.server_no_context_takeover = true;
  p.client_no_context_takeover = true;
  CHECK(to_extension(p).to_string() ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; "
        "client_max_window_bits=10");
  CHECK(*parse_parameters(to_extension(p), Element::response) == p);
}

// --- PMD-2: invalid, repeated and unknown parameters -----------------------------------

TEST_CASE("PMD-2 an invalid, repeated or unknown parameter is a negotiation error, in offers and responses",
          "[extensions]") {
  const std::string bad = GENERATE(as<std::string>{},
                                   // window sizes out of range or not written as 7.1.2 asks
                                   "server_max_window_bits=7", "server_max_window_bits=16",
                                   "server_max_window_bits=abc", "server_max_window_bits=08",
                                   "server_max_window_bits=+9", "server_max_window_bits=0x9",
                                   "server_max_window_bits=-15", "server_max_window_bits=150",
                                   "server_max_window_bits",  // always needs a value
                                   "client_max_window_bits=7", "client_max_window_bits=16",
                                   "client_max_window_bits=abc", "client_max_window_bits=015",
                                   // the no_context_takeover parameters take no value
                                   "server_no_context_takeover=1", "client_no_context_takeover=true",
                                   "server_no_context_takeover=\"yes\"",
                                   // each parameter at most once
                                   "server_no_context_takeover; server_no_context_takeover",
                                   "client_no_context_takeover; client_no_context_takeover",
                                   "server_max_window_bits=10; server_max_window_bits=10",
                                   "client_max_window_bits; client_max_window_bits=10",
                                   "client_max_window_bits=9; client_max_window_bits=9",
                                   // unknown names (and the case of a name matters)
                                   "x_max_window_bits=10", "server_max_window_bit=10", "Server_No_Context_Takeover",
                                   "mux");
  INFO("permessage-deflate; " << bad);
  const auto e = element("permessage-deflate; " + bad);
  for (Element kind : {Element::offer, Element::response}) {
    auto p = parse_parameters(e, kind);
    REQUIRE_FALSE(p.ok());
    CHECK(p.violation().id() == error::bad_deflate_parameter);
    CHECK(p.violation().rule().checklist_id == "PMD-2");
  }
  // The server declines such an offer: no compression, no error (§7.1).
  CHECK_FALSE(server_accept(Settings{}, std::vector{e}));
  // A client fails the connection on such a response (§7.1).
  Negotiator client;
  auto v = client.client_accept(e);
  REQUIRE(v);
  CHECK(v->id() == error::bad_deflate_parameter);
  CHECK_FALSE(client.agreement());
}

TEST_CASE("PMD-2 a second permessage-deflate in the response fails the client (both would use RSV1)",
          "[extensions]") {
  Negotiator client;
  const auto response = header("permessage-deflate, permessage-deflate; server_no_context_takeover");
  REQUIRE_FALSE(client.client_accept(response[0]));
  auto v = client.client_accept(response[1]);
  REQUIRE(v);
  CHECK(v->id() == error::rsv1_conflict);
  CHECK(v->rule().section == "RFC 7692 §5");
}

// --- PMD-8: several offers --------------------------------------------------------------

TEST_CASE("PMD-8 of several offers the server accepts the first acceptable one", "[extensions]") {
  SECTION("RFC 7692 7.1.3: a small window if possible, else anything") {
    const auto offers = header(
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
        "permessage-deflate; client_max_window_bits");
    auto a = server_accept(Settings{}, offers);
    REQUIRE(a);
    CHECK(a->offer == 0);
    CHECK(a->response.to_string() == "permessage-deflate; server_max_window_bits=10");
    CHECK(a->agreement.server_max_window_bits == 10);
  }
  SECTION("an invalid first offer is declined and the second accepted") {
    const auto offers = header(
        "permessage-deflate; server_max_window_bits=16, permessage-deflate; mux, "
        "permessage-deflate; server_no_context_takeover");
    auto a = server_accept(Settings{}, offers);
    REQUIRE(a);
    CHECK(a->offer == 2);
    CHECK(a->response.to_string() == "permessage-deflate; server_no_context_takeover");
  }
  SECTION("other extensions in the list are not permessage-deflate's business") {
    const auto offers = header("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits");
    auto a = server_accept(Settings{}, offers);
    REQUIRE(a);
    CHECK(a->offer == 1);
  }
  SECTION("no acceptable offer: no compression") {
    CHECK_FALSE(server_accept(Settings{}, header("permessage-deflate; a, permessage-deflate; b")));
    CHECK_FALSE(server_accept(Settings{}, {}));
  }
  SECTION("through the negotiator, which remembers the agreement") {
    Negotiator server(Settings{.server_no_context_takeover = true});
    auto response = server.server_accept(header("permessage-deflate; bad=1, permessage-deflate"));
    REQUIRE(response);
    CHECK(response->to_string() == "permessage-deflate; server_no_context_takeover");
    REQUIRE(server.agreement());
    CHECK(server.agreement()->server_no_context_takeover);
  }
}

// --- The server's response (§7.1.1, §7.1.2) ----------------------------------------------

TEST_CASE("PMD-3 the server's response to each offer, by its settings", "[extensions]") {
  struct Row {
    Settings settings;
    std::string offer;
    std::string response;
    std::string agreement;
  };
  const Row row = GENERATE(values<Row>({
      // No settings: echo what must be echoed, nothing else.
      {{}, "permessage-deflate", "permessage-deflate", "s15 c15"},
      {{}, "permessage-deflate; client_max_window_bits", "permessage-deflate", "s15 c15"},
      {{}, "permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover",
       "snct s15 c15"},
      {{}, "permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover",
       "cnct s15 c15"},
      {{}, "permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9",
       "s9 c15"},
      {{}, "permessage-deflate; client_max_window_bits=11", "permessage-deflate; client_max_window_bits=11",
       "s15 c11"},
      // The server limits its own window: answered even if not asked.
      {{.server_max_window_bits = 12}, "permessage-deflate", "permessage-deflate; server_max_window_bits=12",
       "s12 c15"},
      {{.server_max_window_bits = 12}, "permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=10", "s10 c15"},
      {{.server_max_window_bits = 12}, "permessage-deflate; server_max_window_bits=14",
       "permessage-deflate; server_max_window_bits=12", "s12 c15"},
      // The server asks the client to limit its window, if it said it can.
      {{.client_max_window_bits = 10}, "permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits=10", "s15 c10"},
      {{.client_max_window_bits = 10}, "permessage-deflate; client_max_window_bits=9",
       "permessage-deflate; client_max_window_bits=9", "s15 c9"},
      {{.client_max_window_bits = 10}, "permessage-deflate; client_max_window_bits=13",
       "permessage-deflate; client_max_window_bits=10", "s15 c10"},
      {{.client_max_window_bits = 10}, "permessage-deflate", "permessage-deflate", "s15 c15"},
      // Either no_context_takeover may be added by the server.
      {{.server_no_context_takeover = true}, "permessage-deflate", "permessage-deflate; server_no_context_takeover",
       "snct s15 c15"},
      {{.client_no_context_takeover = true}, "permessage-deflate", "permessage-deflate; client_no_context_takeover",
       "cnct s15 c15"},
      // Everything at once.
      {{.server_no_context_takeover = true, .server_max_window_bits = 8},
       "permessage-deflate; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9",
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; "
       "client_max_window_bits=9",
       "snct cnct s8 c9"},
  }));
  INFO(row.offer);
  auto a = server_accept(row.settings, std::vector{element(row.offer)});
  REQUIRE(a);
  CHECK(a->response.to_string() == row.response);
  // The agreement is what the response says.
  CHECK(describe(a->agreement) == row.agreement);
  // And a client that made this offer reads the response the same way.
  auto offer = parse_parameters(element(row.offer), Element::offer);
  auto client = client_agreement(*offer, a->response);
  REQUIRE(client.ok());
  CHECK(*client == a->agreement);
}

// --- The client's check of the response (§7.1.1, §7.1.2) ---------------------------------

TEST_CASE("PMD-3 the client checks the response against its offer, parameter by parameter", "[extensions]") {
  struct Row {
    std::string offer;
    std::string response;
    std::string agreement;  // "" when the client must fail
  };
  const Row row = GENERATE(values<Row>({
      // server_no_context_takeover (§7.1.1.1): asked, it must be answered.
      {"permessage-deflate", "permessage-deflate", "s15 c15"},
      {"permessage-deflate", "permessage-deflate; server_no_context_takeover", "snct s15 c15"},
      {"permessage-deflate; server_no_context_takeover", "permessage-deflate", ""},
      {"permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover",
       "snct s15 c15"},
      // client_no_context_takeover (§7.1.1.2): the server may add it.
      {"permessage-deflate", "permessage-deflate; client_no_context_takeover", "cnct s15 c15"},
      {"permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover",
       "cnct s15 c15"},
      // server_max_window_bits (§7.1.2.1): asked N, answered M <= N.
      {"permessage-deflate", "permessage-deflate; server_max_window_bits=10", "s10 c15"},
      {"permessage-deflate; server_max_window_bits=10", "permessage-deflate", ""},
      {"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=8", "s8 c15"},
      {"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=10", "s10 c15"},
      {"permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=11", ""},
      // client_max_window_bits (§7.1.2.2): only if offered, no larger than offered.
      {"permessage-deflate", "permessage-deflate; client_max_window_bits=10", ""},
      {"permessage-deflate; client_max_window_bits", "permessage-deflate", "s15 c15"},
      {"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=8", "s15 c8"},
      {"permessage-deflate; client_max_window_bits=12", "permessage-deflate", "s15 c12"},
      {"permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=12", "s15 c12"},
      {"permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=9", "s15 c9"},
      {"permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=13", ""},
  }));
  INFO(row.offer << " -> " << row.response);
  auto offer = parse_parameters(element(row.offer), Element::offer);
  REQUIRE(offer.ok());
  auto a = client_agreement(*offer, element(row.response));
  if (row.agreement.empty()) {
    REQUIRE_FALSE(a.ok());
    CHECK(a.violation().id() == error::deflate_response_mismatch);
    CHECK(a.violation().rule().checklist_id == "PMD-3");
  } else {
    REQUIRE(a.ok());
    CHECK(describe(*a) == row.agreement);
  }
}

TEST_CASE("PMD-4 a client that offered client_no_context_takeover keeps it though the server leaves it out",
          "[extensions]") {
  Negotiator client(Settings{.client_no_context_takeover = true});
  REQUIRE(client.client_offers().size() == 1);
  CHECK(client.client_offers()[0].to_string() ==
        "permessage-deflate; client_no_context_takeover; client_max_window_bits");
  REQUIRE_FALSE(client.client_accept(element("permessage-deflate")));
  REQUIRE(client.agreement());
  CHECK(client.agreement()->client_no_context_takeover);
  // And the client's compressor does reset between messages: a repeated
  // message costs as much the second time.
  PerMessageDeflate codec(Role::client, *client.agreement(), 1 << 20);
  const std::string first = codec.compress("Hello, Hello, Hello");
  CHECK(codec.compress("Hello, Hello, Hello") == first);
}

TEST_CASE("PMD-1 the client's offer, from its settings", "[extensions]") {
  CHECK(client_offer(Settings{}).to_string() == "permessage-deflate; client_max_window_bits");
  CHECK(client_offer(Settings{.server_no_context_takeover = true,
                              .client_no_context_takeover = true,
                              .server_max_window_bits = 10,
                              .client_max_window_bits = 9})
            .to_string() ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
        "client_max_window_bits=9");
  Negotiator n;
  CHECK(n.name() == "permessage-deflate");
  CHECK_THROWS_AS(Negotiator(Settings{.server_max_window_bits = 7}), std::invalid_argument);
  CHECK_THROWS_AS(Negotiator(Settings{.client_max_window_bits = 16}), std::invalid_argument);
  CHECK_THROWS_AS(Negotiator(Settings{.level = 10}), std::invalid_argument);
  CHECK_THROWS_AS(Negotiator(Settings{.mem_level = 0}), std::invalid_argument);
}

TEST_CASE("PMD-3 what one side's offer and the other's settings agree, both sides agree on", "[extensions]") {
  // Every combination of the client's and the server's settings: the client
  // reads the server's response as the server meant it.
  for (int mask = 0; mask < 16; ++mask) {
    for (int sbits : {0, 8, 12, 15}) {
      for (int cbits : {0, 9, 15}) {
        Settings client{.server_no_context_takeover = (mask & 1) != 0,
                        .client_no_context_takeover = (mask & 2) != 0,
                        .server_max_window_bits = sbits ? std::optional<int>(sbits) : std::nullopt,
                        .client_max_window_bits = cbits ? std::optional<int>(cbits) : std::nullopt};
        Settings server{.server_no_context_takeover = (mask & 4) != 0,
                        .client_no_context_takeover = (mask & 8) != 0,
                        .server_max_window_bits = cbits ? std::optional<int>(cbits) : std::nullopt,
                        .client_max_window_bits = sbits ? std::optional<int>(sbits) : std::nullopt};
        Negotiator c(client), s(server);
        auto response = s.server_accept(c.client_offers());
        INFO(c.client_offers()[0].to_string());
        REQUIRE(response);
        INFO(response->to_string());
        REQUIRE_FALSE(c.client_accept(*response));
        CHECK(*c.agreement() == *s.agreement());
        // Each side's own promise holds.
        if (client.client_no_context_takeover) CHECK(c.agreement()->client_no_context_takeover);
        if (client.server_no_context_takeover) CHECK(c.agreement()->server_no_context_takeover);
        if (client.server_max_window_bits) CHECK(c.agreement()->server_max_window_bits <= *client.server_max_window_bits);
        if (server.server_max_window_bits) CHECK(s.agreement()->server_max_window_bits <= *server.server_max_window_bits);
      }
    }
  }
}
