// Chapter 2 tests: the server side of the opening handshake (RFC 6455 §4.2).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>
#include <wslab/handshake.hpp>

using namespace wslab::handshake;
using wslab::error;
using wslab::Violation;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// The header fields of the RFC 6455 §1.2 sample request.
Fields sample_fields() {
  return {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Origin", "http://example.com"}, {"Sec-WebSocket-Protocol", "chat, superchat"},
          {"Sec-WebSocket-Version", "13"}};
}

Fields without(Fields fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& f) { return f.first == name; });
  return fields;
}

Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& f : fields)
    if (f.first == name) f.second = value;
  return fields;
}

Request request_of(const Fields& fields, std::string method = "GET", std::string version = "HTTP/1.1",
                   std::string target = "/chat") {
  Request r{std::move(method), std::move(target), std::move(version), {}};
  for (const auto& [name, value] : fields) r.headers.add(name, value);
  return r;
}

// Validates and expects a rejection with `id` and the HTTP status the server answers with.
Violation rejected(const Request& request, error id, int status) {
  const auto result = validate_request(request);
  REQUIRE_FALSE(result.ok());
  CHECK(result.violation().rule().name == wslab::rule(id).name);
  CHECK(result.violation().http_status() == status);
  CHECK(result.violation().close_code() == 0);
  return result.violation();
}

UpgradeRequest accepted(const Request& request) {
  auto result = validate_request(request);
  if (!result.ok()) FAIL(result.violation().message());
  return result.value();
}

}  // namespace

TEST_CASE("HSS-1 validate_request accepts the RFC 6455 §1.2 sample request", "[handshake]") {
  const auto parsed = parse_request(
      "GET /chat HTTP/1.1\r\n"
      "Host: server.example.com\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Origin: http://example.com\r\n"
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "\r\n");
  REQUIRE(parsed.ok());
  CHECK(wants_upgrade(*parsed));
  const UpgradeRequest up = accepted(*parsed);
  CHECK(up.resource_name == "/chat");
  CHECK(up.host == "server.example.com");
  CHECK(up.key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(up.origin == "http://example.com");
  CHECK(up.subprotocols == std::vector<std::string>{"chat", "superchat"});
  CHECK(up.extensions.empty());
  CHECK(up.request.headers.size() == 7);
}

TEST_CASE("HSS-1 bad_method (405): only GET opens a WebSocket", "[handshake]") {
  const std::string method = GENERATE("POST", "HEAD", "get", "CONNECT");
  const Violation v = rejected(request_of(sample_fields(), method), error::bad_method, 405);
  CHECK(v.detail() == "method \"" + method + "\" is not GET");
}

TEST_CASE("HSS-1 bad_http_version (400): HTTP/1.1 or later", "[handshake]") {
  CHECK(rejected(request_of(sample_fields(), "GET", "HTTP/1.0"), error::bad_http_version, 400).detail() ==
        "HTTP version HTTP/1.0 is older than HTTP/1.1");
  CHECK(rejected(request_of(sample_fields(), "GET", "HTTP/0.9"), error::bad_http_version, 400).detail() ==
        "HTTP version HTTP/0.9 is older than HTTP/1.1");
  CHECK(rejected(request_of(sample_fields(), "GET", "HTTP/1"), error::bad_http_version, 400).detail() ==
        "\"HTTP/1\" is not an HTTP version");
  CHECK(accepted(request_of(sample_fields(), "GET", "HTTP/1.2")).resource_name == "/chat");
  CHECK(accepted(request_of(sample_fields(), "GET", "HTTP/2.0")).resource_name == "/chat");
}

TEST_CASE("HSS-1 the request target is a resource name or an absolute http(s) URI", "[handshake]") {
  const auto [target, resource] = GENERATE(table<std::string, std::string>({
      {"/chat?room=1", "/chat?room=1"},
      {"http://server.example.com/chat?x", "/chat?x"},
      {"HTTPS://server.example.com", "/"},
      {"http://server.example.com?q", "/?q"},
  }));
  CHECK(accepted(request_of(sample_fields(), "GET", "HTTP/1.1", target)).resource_name == resource);
  const std::string bad = GENERATE("*", "chat", "ftp://h/chat", "http:///chat");
  CHECK_THAT(
      rejected(request_of(sample_fields(), "GET", "HTTP/1.1", bad), error::bad_request_syntax, 400).detail(),
      Catch::Contains("is neither a resource name nor an absolute http(s) URI"));
}

TEST_CASE("HSS-1 no_host (400): the Host header is required and not empty", "[handshake]") {
  CHECK(rejected(request_of(without(sample_fields(), "Host")), error::no_host, 400).detail() ==
        "no Host header");
  CHECK(rejected(request_of(with(sample_fields(), "Host", "")), error::no_host, 400).detail() ==
        "the Host header is empty");
}

TEST_CASE("HSS-1 no_upgrade (426): Upgrade must contain the token websocket", "[handshake]") {
  CHECK(rejected(request_of(without(sample_fields(), "Upgrade")), error::no_upgrade, 426).detail() ==
        "no Upgrade header");
  const std::string bad = GENERATE("h2c", "websockets", "web socket", "");
  CHECK(rejected(request_of(with(sample_fields(), "Upgrade", bad)), error::no_upgrade, 426).detail() ==
        "Upgrade \"" + bad + "\" does not contain the token \"websocket\"");
  const std::string good = GENERATE("WebSocket", "WEBSOCKET", "h2c, websocket", "websocket ,foo");
  CHECK(accepted(request_of(with(sample_fields(), "Upgrade", good))).key == "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST_CASE("HSS-1 no_connection_upgrade (400): Connection must contain the token Upgrade", "[handshake]") {
  CHECK(rejected(request_of(without(sample_fields(), "Connection")), error::no_connection_upgrade, 400)
            .detail() == "no Connection header");
  const std::string bad = GENERATE("keep-alive", "close", "Upgrade-Insecure", "");
  CHECK(rejected(request_of(with(sample_fields(), "Connection", bad)), error::no_connection_upgrade, 400)
            .detail() == "Connection \"" + bad + "\" does not contain the token \"Upgrade\"");
  const std::string good = GENERATE("keep-alive, Upgrade", "upgrade", "UPGRADE,keep-alive");
  CHECK(accepted(request_of(with(sample_fields(), "Connection", good))).host == "server.example.com");
  // Connection split over two header lines is still one list.
  Fields two = without(sample_fields(), "Connection");
  two.emplace_back("Connection", "keep-alive");
  two.emplace_back("Connection", "Upgrade");
  CHECK(accepted(request_of(two)).host == "server.example.com");
}

TEST_CASE("HSS-1 no_sec_key (400): the request must carry Sec-WebSocket-Key", "[handshake]") {
  CHECK(
      rejected(request_of(without(sample_fields(), "Sec-WebSocket-Key")), error::no_sec_key, 400).detail() ==
      "no Sec-WebSocket-Key header");
}

TEST_CASE("HSS-1 bad_sec_key (400): the key must be base64 of exactly 16 bytes", "[handshake]") {
  const auto [key, why] = GENERATE(table<std::string, std::string>({
      {"", "decodes to 0 bytes, not 16"},
      {"dGhlIHNhbXBsZSBub25j", "decodes to 15 bytes, not 16"},                   // 15 bytes
      {"dGhlIHNhbXBsZSBub25jZQ", "is 22 characters long, not a multiple of 4"},  // no padding
      {"dGhlIHNhbXBsZSBub25jZQ=", "is 23 characters long, not a multiple of 4"},
      {"dGhlIHNhbXBsZSBub25jZTE=", "decodes to 17 bytes, not 16"},  // 17 bytes
      {"dGhlIHNhbXBsZSBub25jZSE/Pw==", "decodes to 19 bytes, not 16"},
      {"dGhl*HNhbXBsZSBub25jZQ==", "has '*' at offset 4, which is not a base64 character"},
      {"dGhl IHNhbXBsZSBub25jZQ==", "has ' ' at offset 4, which is not a base64 character"},
      {"dGhlIHNhbXBsZSBub25jZQ-_", "has '-' at offset 22, which is not a base64 character"},
      {"dGhlIHNh=XBsZSBub25jZQ==", "has '=' at offset 8, which is not a base64 character"},
      {"dGhlIHNhbXBsZSBub25j====", "ends in 4 '=', at most 2 are allowed"},
  }));
  const Violation v =
      rejected(request_of(with(sample_fields(), "Sec-WebSocket-Key", key)), error::bad_sec_key, 400);
  CHECK(v.detail() == "Sec-WebSocket-Key \"" + key + "\" " + why);
}

TEST_CASE("HSS-6 duplicate_header (400): Sec-WebSocket-Key and -Version appear at most once", "[handshake]") {
  Fields two_keys = sample_fields();
  two_keys.emplace_back("sec-websocket-key", "A1EEou7Nnq6+BBZoAZqWlg==");
  CHECK(rejected(request_of(two_keys), error::duplicate_header, 400).detail() ==
        "Sec-WebSocket-Key appears 2 times");
  Fields two_versions = sample_fields();
  two_versions.emplace_back("Sec-WebSocket-Version", "13");
  CHECK(rejected(request_of(two_versions), error::duplicate_header, 400).detail() ==
        "Sec-WebSocket-Version appears 2 times");
}

TEST_CASE("HSS-2 bad_sec_version (426): only version 13, and the 426 names it", "[handshake]") {
  CHECK(rejected(request_of(without(sample_fields(), "Sec-WebSocket-Version")), error::bad_sec_version, 426)
            .detail() == "no Sec-WebSocket-Version header");
  const std::string version = GENERATE("8", "12", "14", "13, 8", "013", "");
  const Violation v = rejected(request_of(with(sample_fields(), "Sec-WebSocket-Version", version)),
                               error::bad_sec_version, 426);
  CHECK(v.detail() == "Sec-WebSocket-Version is \"" + version + "\", only 13 is supported");
  const std::string response = make_reject_response(v);
  CHECK(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  CHECK_THAT(response, Catch::Contains("\r\nSec-WebSocket-Version: 13\r\n"));
}

TEST_CASE("HSC-7 bad_subprotocol_header (400): the offered subprotocols are unique tokens", "[handshake]") {
  const auto [value, why] = GENERATE(table<std::string, std::string>({
      {"chat,,superchat", "empty subprotocol name"},
      {"chat, ", "empty subprotocol name"},
      {"", "empty subprotocol name"},
      {"chat, chat", "subprotocol \"chat\" is offered twice"},
      {"chat v2", "subprotocol \"chat v2\" is not a token"},
      {"chat;v=2", "subprotocol \"chat;v=2\" is not a token"},
      {"\"chat\"", "subprotocol \"\"chat\"\" is not a token"},
  }));
  const Violation v = rejected(request_of(with(sample_fields(), "Sec-WebSocket-Protocol", value)),
                               error::bad_subprotocol_header, 400);
  CHECK(v.detail() == why + " in Sec-WebSocket-Protocol \"" + value + "\"");
}

TEST_CASE("HSC-7 several Sec-WebSocket-Protocol lines are one list", "[handshake]") {
  Fields fields = without(sample_fields(), "Sec-WebSocket-Protocol");
  fields.emplace_back("Sec-WebSocket-Protocol", "chat");
  fields.emplace_back("Sec-WebSocket-Protocol", "superchat, v2.json");
  CHECK(accepted(request_of(fields)).subprotocols ==
        std::vector<std::string>{"chat", "superchat", "v2.json"});
  fields.emplace_back("Sec-WebSocket-Protocol", "chat");
  CHECK(rejected(request_of(fields), error::bad_subprotocol_header, 400).detail() ==
        "subprotocol \"chat\" is offered twice in Sec-WebSocket-Protocol \"chat, superchat, v2.json, chat\"");
  // Subprotocol names are case-sensitive: these are two different ones.
  CHECK(accepted(request_of(with(sample_fields(), "Sec-WebSocket-Protocol", "chat, Chat")))
            .subprotocols.size() == 2);
}

TEST_CASE("EX-2 bad_extension_header (400): the server parses the client's offers", "[handshake]") {
  Fields fields = sample_fields();
  fields.emplace_back("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  fields.emplace_back("Sec-WebSocket-Extensions", "x-foo");
  const UpgradeRequest up = accepted(request_of(fields));
  REQUIRE(up.extensions.size() == 2);
  CHECK(up.extensions[0].to_string() == "permessage-deflate; client_max_window_bits");
  CHECK(up.extensions[1].name == "x-foo");

  const std::string bad = GENERATE("permessage-deflate;", ", x-foo", "permessage-deflate; a=\"b c\"", "");
  const Violation v =
      rejected(request_of(with(fields, "Sec-WebSocket-Extensions", bad)), error::bad_extension_header, 400);
  CHECK_FALSE(v.detail().empty());
}

TEST_CASE("HSS-1 Origin is optional and, when present, passed on", "[handshake]") {
  CHECK_FALSE(accepted(request_of(without(sample_fields(), "Origin"))).origin.has_value());
  CHECK(accepted(request_of(sample_fields())).origin == "http://example.com");
}

TEST_CASE("HSS-1 wants_upgrade tells a WebSocket request from a plain HTTP request", "[handshake]") {
  CHECK(wants_upgrade(request_of(sample_fields())));
  CHECK(wants_upgrade(request_of(with(sample_fields(), "Upgrade", "h2c, WebSocket"))));
  CHECK_FALSE(wants_upgrade(request_of(without(sample_fields(), "Upgrade"))));
  CHECK_FALSE(wants_upgrade(request_of(with(sample_fields(), "Upgrade", "h2c"))));
}

TEST_CASE("HSS-4 select_subprotocol: the client's first choice that the server speaks", "[handshake]") {
  const std::vector<std::string> offered{"v3.chat", "v2.chat", "chat"};
  CHECK(select_subprotocol(offered, std::vector<std::string>{"chat", "v2.chat"}) == "v2.chat");
  CHECK(select_subprotocol(offered, std::vector<std::string>{"chat"}) == "chat");
  CHECK_FALSE(select_subprotocol(offered, std::vector<std::string>{"mqtt"}).has_value());
  CHECK_FALSE(select_subprotocol({}, std::vector<std::string>{"chat"}).has_value());
}

TEST_CASE("HSS-5 make_accept_response answers the sample request byte for byte", "[handshake]") {
  const UpgradeRequest up = accepted(request_of(sample_fields()));
  AcceptOptions options;
  options.subprotocol = select_subprotocol(up.subprotocols, std::vector<std::string>{"chat"});
  CHECK(make_accept_response(up, options) ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Sec-WebSocket-Protocol: chat\r\n"
        "\r\n");
}

TEST_CASE("HSS-5 make_accept_response with extensions and extra headers, no body", "[handshake]") {
  const UpgradeRequest up =
      accepted(request_of(with(sample_fields(), "Sec-WebSocket-Key", "A1EEou7Nnq6+BBZoAZqWlg==")));
  AcceptOptions options;
  options.extensions = {
      Extension{"permessage-deflate",
                {{"server_no_context_takeover", std::nullopt}, {"client_max_window_bits", "10"}}}};
  options.extra_headers.add("Server", "wslab");
  CHECK(make_accept_response(up, options) ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: cT8V7OIhhhL8rbFZgoGjU4DReQ8=\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
        "client_max_window_bits=10\r\n"
        "Server: wslab\r\n"
        "\r\n");
}

TEST_CASE("HSS-2 HSS-3 make_reject_response: status, reason, headers and a one-line body", "[handshake]") {
  const auto [id, status_line] = GENERATE(table<error, std::string>({
      {error::bad_sec_key, "HTTP/1.1 400 Bad Request"},
      {error::origin_rejected, "HTTP/1.1 403 Forbidden"},
      {error::host_rejected, "HTTP/1.1 421 Misdirected Request"},
      {error::unknown_resource, "HTTP/1.1 404 Not Found"},
      {error::bad_method, "HTTP/1.1 405 Method Not Allowed"},
      {error::no_upgrade, "HTTP/1.1 426 Upgrade Required"},
      {error::request_too_large, "HTTP/1.1 431 Request Header Fields Too Large"},
      {error::server_busy, "HTTP/1.1 503 Service Unavailable"},
  }));
  const Violation v(id, "the specifics");
  const std::string bytes = make_reject_response(v);
  INFO(bytes);
  CHECK(bytes.starts_with(status_line + "\r\n"));

  const std::size_t end = bytes.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const auto response = parse_response(std::string_view(bytes).substr(0, end + 4));
  REQUIRE(response.ok());
  CHECK(response->status == v.http_status());
  const std::string body = bytes.substr(end + 4);
  CHECK(body == v.message() + "\n");
  CHECK(*response->headers.find("Content-Type") == "text/plain; charset=utf-8");
  CHECK(*response->headers.find("Content-Length") == std::to_string(body.size()));
  CHECK(*response->headers.find("Connection") == "close");
  CHECK((response->headers.find("Sec-WebSocket-Version") != nullptr) == (v.http_status() == 426));
  CHECK((response->headers.find("Upgrade") != nullptr) == (v.http_status() == 426));
  CHECK((response->headers.find("Allow") != nullptr) == (v.http_status() == 405));
}

TEST_CASE("HSS-2 make_reject_response for a version mismatch, byte for byte", "[handshake]") {
  const Violation v(error::bad_sec_version, "Sec-WebSocket-Version is \"8\", only 13 is supported");
  const std::string body = "426: Sec-WebSocket-Version is \"8\", only 13 is supported (RFC 6455 §4.2.2)\n";
  CHECK(make_reject_response(v) ==
        "HTTP/1.1 426 Upgrade Required\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: " +
            std::to_string(body.size()) +
            "\r\n"
            "Connection: close\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Upgrade: websocket\r\n"
            "\r\n" +
            body);
}

TEST_CASE("make_http_response adds a Content-Length unless the status has no body", "[handshake]") {
  Headers headers;
  headers.add("Content-Type", "text/html");
  CHECK(make_http_response(200, "OK", headers, "<p>hi</p>") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<p>hi</p>");
  CHECK(make_http_response(204, "No Content", {}, "ignored") == "HTTP/1.1 204 No Content\r\n\r\n");
  Headers explicit_length;
  explicit_length.add("Content-Length", "2");
  CHECK(make_http_response(200, "OK", explicit_length, "ok") ==
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}
