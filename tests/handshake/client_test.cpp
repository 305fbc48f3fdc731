// Chapter 2 tests: the client side of the opening handshake (RFC 6455 §4.1).
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;
using wslab::error;
using wslab::Violation;

namespace {

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

wslab::uri::Uri uri(const std::string& text) {
  auto parsed = wslab::uri::parse(text);
  REQUIRE(parsed.ok());
  return parsed.value();
}

// The RFC 6455 §1.2 sample: ws://server.example.com/chat, Origin, two subprotocols.
ClientRequest sample_request(std::vector<Extension> extensions = {}) {
  ClientOptions options;
  options.origin = "http://example.com";
  options.subprotocols = {"chat", "superchat"};
  options.extensions = std::move(extensions);
  auto request = make_client_request(uri("ws://server.example.com/chat"), options, kKey);
  REQUIRE(request.ok());
  return request.value();
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// The header fields of the RFC 6455 §1.2 sample response.
Fields sample_fields() {
  return {{"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Accept", kAccept},
          {"Sec-WebSocket-Protocol", "chat"}};
}

Response response_of(const Fields& fields, int status = 101, std::string reason = "Switching Protocols") {
  Response r{status, std::move(reason), "HTTP/1.1", {}};
  for (const auto& [name, value] : fields) r.headers.add(name, value);
  return r;
}

Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& f : fields)
    if (f.first == name) f.second = value;
  return fields;
}

Fields without(Fields fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& f) { return f.first == name; });
  return fields;
}

// Client-side failures have no close code and no HTTP status: the client just fails.
Violation rejected(const Response& response, const ClientRequest& sent, error id) {
  const auto result = validate_response(response, sent);
  REQUIRE_FALSE(result.ok());
  CHECK(result.violation().rule().name == wslab::rule(id).name);
  CHECK(result.violation().http_status() == 0);
  CHECK(result.violation().close_code() == 0);
  return result.violation();
}

}  // namespace

TEST_CASE("HSC-3 HSC-4 HSC-5 HSC-6 make_client_request writes the §1.2 sample request", "[handshake]") {
  const ClientRequest sent = sample_request();
  CHECK(sent.key == kKey);
  CHECK(sent.bytes ==
        "GET /chat HTTP/1.1\r\n"
        "Host: server.example.com\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Origin: http://example.com\r\n"
        "Sec-WebSocket-Protocol: chat, superchat\r\n"
        "\r\n");
  CHECK(sent.subprotocols == std::vector<std::string>{"chat", "superchat"});
  // What the client writes, the server accepts.
  const auto parsed = parse_request(sent.bytes);
  REQUIRE(parsed.ok());
  const auto up = validate_request(*parsed);
  REQUIRE(up.ok());
  CHECK(up->key == kKey);
  CHECK(up->subprotocols == sent.subprotocols);
}

TEST_CASE("HSC-3 HSC-4 the request line carries the resource name, Host the host_header", "[handshake]") {
  const auto [text, request_line, host] = GENERATE(table<std::string, std::string, std::string>({
      {"ws://example.com", "GET / HTTP/1.1", "example.com"},
      {"ws://Example.com:8080/chat?room=1", "GET /chat?room=1 HTTP/1.1", "example.com:8080"},
      {"wss://example.com:443/x", "GET /x HTTP/1.1", "example.com"},
      {"ws://[::1]:9000/x", "GET /x HTTP/1.1", "[::1]:9000"},
  }));
  const auto request = make_client_request(uri(text), {}, kKey);
  REQUIRE(request.ok());
  CHECK(request->bytes.starts_with(request_line + "\r\nHost: " + host + "\r\n"));
  CHECK(request->bytes.find("Origin") == std::string::npos);
  CHECK(request->bytes.find("Sec-WebSocket-Protocol") == std::string::npos);
  CHECK(request->bytes.find("Sec-WebSocket-Extensions") == std::string::npos);
}

TEST_CASE("HSC-5 make_client_request uses a fresh key for every request by default", "[handshake]") {
  const auto a = make_client_request(uri("ws://h/"), {});
  const auto b = make_client_request(uri("ws://h/"), {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->key != b->key);
  CHECK(a->key.size() == 24);
  CHECK(a->bytes.find("Sec-WebSocket-Key: " + a->key + "\r\n") != std::string::npos);
  // A key that is not base64 of 16 bytes is refused before anything is sent.
  const auto bad = make_client_request(uri("ws://h/"), {}, "short");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.violation().id() == error::bad_sec_key);
}

TEST_CASE("HSC-7 make_client_request: subprotocols are non-empty, unique tokens", "[handshake]") {
  const auto [subprotocols, detail] = GENERATE(table<std::vector<std::string>, std::string>({
      {{"chat", ""}, "empty subprotocol name"},
      {{"chat", "chat"}, "subprotocol \"chat\" is offered twice"},
      {{"chat v2"}, "subprotocol \"chat v2\" is not a token"},
      {{"a,b"}, "subprotocol \"a,b\" is not a token"},
  }));
  ClientOptions options;
  options.subprotocols = subprotocols;
  const auto request = make_client_request(uri("ws://h/"), options, kKey);
  REQUIRE_FALSE(request.ok());
  CHECK(request.violation().id() == error::bad_subprotocol_header);
  CHECK(request.violation().detail() == detail);
}

TEST_CASE("EX-1 make_client_request offers extensions and extra headers after the rest", "[handshake]") {
  ClientOptions options;
  options.extensions = {Extension{"permessage-deflate", {{"client_max_window_bits", std::nullopt}}},
                        Extension{"permessage-deflate", {}}};
  options.extra_headers.add("User-Agent", "wslab");
  const auto request = make_client_request(uri("ws://h/"), options, kKey);
  REQUIRE(request.ok());
  CHECK(request->bytes.ends_with(
      "Sec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate\r\n"
      "User-Agent: wslab\r\n"
      "\r\n"));
  CHECK(request->extensions == options.extensions);
}

TEST_CASE("HSC-4 make_client_request refuses header text that would break the request", "[handshake]") {
  ClientOptions crlf_origin;
  crlf_origin.origin = "http://a\r\nX-Evil: 1";
  const auto a = make_client_request(uri("ws://h/"), crlf_origin, kKey);
  REQUIRE_FALSE(a.ok());
  CHECK(a.violation().id() == error::bad_request_syntax);
  CHECK(a.violation().detail() == "header Origin has a control character in its value");

  ClientOptions bad_name;
  bad_name.extra_headers.add("X Y", "1");
  const auto b = make_client_request(uri("ws://h/"), bad_name, kKey);
  REQUIRE_FALSE(b.ok());
  CHECK(b.violation().detail() == "header name \"X Y\" is not a token");

  ClientOptions bad_extension;
  bad_extension.extensions = {Extension{"not a token", {}}};
  const auto c = make_client_request(uri("ws://h/"), bad_extension, kKey);
  REQUIRE_FALSE(c.ok());
  CHECK(c.violation().id() == error::bad_extension_header);
}

TEST_CASE("HSC-9 validate_response accepts the §1.2 sample response", "[handshake]") {
  const auto parsed = parse_response(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "\r\n");
  REQUIRE(parsed.ok());
  const auto agreement = validate_response(*parsed, sample_request());
  REQUIRE(agreement.ok());
  CHECK(agreement->subprotocol == "chat");
  CHECK(agreement->extensions.empty());
}

TEST_CASE("HSC-8 bad_status: anything but 101 fails, and the detail names the status", "[handshake]") {
  const auto [status, reason, detail] = GENERATE(table<int, std::string, std::string>({
      {200, "OK", "status 200 OK, expected 101 Switching Protocols"},
      {400, "Bad Request", "status 400 Bad Request, expected 101 Switching Protocols"},
      {426, "Upgrade Required", "status 426 Upgrade Required, expected 101 Switching Protocols"},
      {302, "", "status 302, expected 101 Switching Protocols"},
  }));
  CHECK(
      rejected(response_of(sample_fields(), status, reason), sample_request(), error::bad_status).detail() ==
      detail);
}

TEST_CASE("HSC-9 response_no_upgrade: Upgrade must be exactly websocket, any case", "[handshake]") {
  CHECK(
      rejected(response_of(without(sample_fields(), "Upgrade")), sample_request(), error::response_no_upgrade)
          .detail() == "no Upgrade header");
  const std::string bad = GENERATE("h2c", "websocket, h2c", "websockets", "");
  CHECK(rejected(response_of(with(sample_fields(), "Upgrade", bad)), sample_request(),
                 error::response_no_upgrade)
            .detail() == "Upgrade is \"" + bad + "\", not \"websocket\"");
  const std::string good = GENERATE("WebSocket", "WEBSOCKET");
  CHECK(validate_response(response_of(with(sample_fields(), "Upgrade", good)), sample_request()).ok());
}

TEST_CASE("HSC-9 response_no_connection_upgrade: Connection must hold the Upgrade token", "[handshake]") {
  CHECK(rejected(response_of(without(sample_fields(), "Connection")), sample_request(),
                 error::response_no_connection_upgrade)
            .detail() == "no Connection header");
  CHECK(rejected(response_of(with(sample_fields(), "Connection", "close")), sample_request(),
                 error::response_no_connection_upgrade)
            .detail() == "Connection \"close\" does not contain the token \"Upgrade\"");
  CHECK(validate_response(response_of(with(sample_fields(), "Connection", "keep-alive, upgrade")),
                          sample_request())
            .ok());
}

TEST_CASE("HSC-9 bad_sec_accept: missing, repeated or not base64(SHA-1(key + GUID))", "[handshake]") {
  CHECK(rejected(response_of(without(sample_fields(), "Sec-WebSocket-Accept")), sample_request(),
                 error::bad_sec_accept)
            .detail() == "no Sec-WebSocket-Accept header");

  Fields twice = sample_fields();
  twice.emplace_back("Sec-WebSocket-Accept", kAccept);
  CHECK(rejected(response_of(twice), sample_request(), error::bad_sec_accept).detail() ==
        "Sec-WebSocket-Accept appears 2 times");

  // The course notes' accept value answers a different key.
  CHECK(rejected(response_of(with(sample_fields(), "Sec-WebSocket-Accept", "cT8V7OIhhhL8rbFZgoGjU4DReQ8=")),
                 sample_request(), error::bad_sec_accept)
            .detail() ==
        "Sec-WebSocket-Accept is \"cT8V7OIhhhL8rbFZgoGjU4DReQ8=\", expected "
        "\"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\" for key \"dGhlIHNhbXBsZSBub25jZQ==\"");
  // The accept value is compared exactly: base64 is case-sensitive.
  const std::string lower = "s3pplmbitxaq9kygzzhzrbk+xoo=";
  CHECK(rejected(response_of(with(sample_fields(), "Sec-WebSocket-Accept", lower)), sample_request(),
                 error::bad_sec_accept)
            .detail()
            .starts_with("Sec-WebSocket-Accept is \"" + lower + "\""));
}

TEST_CASE("HSC-10 unrequested_subprotocol: the server may only pick one we offered", "[handshake]") {
  CHECK(rejected(response_of(with(sample_fields(), "Sec-WebSocket-Protocol", "mqtt")), sample_request(),
                 error::unrequested_subprotocol)
            .detail() == "server selected subprotocol \"mqtt\", which is not one of \"chat, superchat\"");
  CHECK(rejected(response_of(with(sample_fields(), "Sec-WebSocket-Protocol", "chat, superchat")),
                 sample_request(), error::unrequested_subprotocol)
            .detail() ==
        "server selected subprotocol \"chat, superchat\", which is not one of \"chat, superchat\"");

  Fields twice = sample_fields();
  twice.emplace_back("Sec-WebSocket-Protocol", "superchat");
  CHECK(rejected(response_of(twice), sample_request(), error::unrequested_subprotocol).detail() ==
        "Sec-WebSocket-Protocol appears 2 times");

  const auto none_offered = make_client_request(uri("ws://server.example.com/chat"), {}, kKey);
  REQUIRE(none_offered.ok());
  CHECK(rejected(response_of(sample_fields()), *none_offered, error::unrequested_subprotocol).detail() ==
        "server selected subprotocol \"chat\", but none was offered");

  // No subprotocol in the response is fine: the server speaks none of ours.
  const auto agreement =
      validate_response(response_of(without(sample_fields(), "Sec-WebSocket-Protocol")), sample_request());
  REQUIRE(agreement.ok());
  CHECK_FALSE(agreement->subprotocol.has_value());
}

TEST_CASE("HSC-10 unrequested_extension: the server may only accept extensions we offered", "[handshake]") {
  const ClientRequest offered =
      sample_request({Extension{"permessage-deflate", {{"client_max_window_bits", std::nullopt}}}});

  Fields accepted_fields = sample_fields();
  accepted_fields.emplace_back("Sec-WebSocket-Extensions",
                               "permessage-deflate; server_max_window_bits=\"10\"");
  const auto agreement = validate_response(response_of(accepted_fields), offered);
  REQUIRE(agreement.ok());
  REQUIRE(agreement->extensions.size() == 1);
  CHECK(agreement->extensions[0] == Extension{"permessage-deflate", {{"server_max_window_bits", "10"}}});

  CHECK(rejected(response_of(with(accepted_fields, "Sec-WebSocket-Extensions", "x-webkit-deflate-frame")),
                 offered, error::unrequested_extension)
            .detail() == "server accepted extension \"x-webkit-deflate-frame\", which was not offered");
  CHECK(rejected(response_of(accepted_fields), sample_request(), error::unrequested_extension).detail() ==
        "server accepted extension \"permessage-deflate\", which was not offered");
  CHECK_THAT(rejected(response_of(with(accepted_fields, "Sec-WebSocket-Extensions", "permessage-deflate;")),
                      offered, error::unrequested_extension)
                 .detail(),
             Catch::StartsWith("Sec-WebSocket-Extensions is malformed: "));

  Fields twice = accepted_fields;
  twice.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate");
  CHECK(rejected(response_of(twice), offered, error::unrequested_extension).detail() ==
        "Sec-WebSocket-Extensions appears 2 times");
}

TEST_CASE("HSC-9 HSS-5 a full handshake: client request, server accept, client check", "[handshake]") {
  // Client.
  ClientOptions options;
  options.subprotocols = {"v2.chat", "chat"};
  options.extensions = {Extension{"permessage-deflate", {}}};
  const auto sent = make_client_request(uri("wss://chat.example.org:8443/room/7?lang=en"), options);
  REQUIRE(sent.ok());

  // Server: read the bytes as they arrive, check, answer.
  HeadReader reader;
  std::size_t consumed = 0;
  REQUIRE(reader.feed(sent->bytes, consumed) == HeadReader::Status::complete);
  const auto request = parse_request(reader.head());
  REQUIRE(request.ok());
  const auto up = validate_request(*request);
  REQUIRE(up.ok());
  CHECK(up->resource_name == "/room/7?lang=en");
  CHECK(up->host == "chat.example.org:8443");
  AcceptOptions accept;
  accept.subprotocol = select_subprotocol(up->subprotocols, std::vector<std::string>{"chat", "v2.chat"});
  accept.extensions = up->extensions;
  const std::string answer = make_accept_response(*up, accept);

  // Client: read the answer and check it against what was sent.
  HeadReader response_reader(Limits{}, /*response=*/true);
  REQUIRE(response_reader.feed(answer, consumed) == HeadReader::Status::complete);
  CHECK(consumed == answer.size());
  const auto response = parse_response(response_reader.head());
  REQUIRE(response.ok());
  const auto agreement = validate_response(*response, *sent);
  REQUIRE(agreement.ok());
  CHECK(agreement->subprotocol == "v2.chat");
  CHECK(agreement->extensions == options.extensions);
}
