// Layer 2: the connection state machine. See connection.hpp for the picture.
#include "wslab/connection.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace wslab::connection {

std::string_view to_string(ReadyState state) {
  switch (state) {
    case ReadyState::CONNECTING: return "CONNECTING";
    case ReadyState::OPEN: return "OPEN";
    case ReadyState::CLOSING: return "CLOSING";
    case ReadyState::CLOSED: return "CLOSED";
  }
  return "?";
}

std::string_view to_string(Direction direction) {
  return direction == Direction::received ? "received" : "sent";
}

std::string_view to_string(Event::Type type) {
  switch (type) {
    case Event::Type::request: return "request";
    case Event::Type::open: return "open";
    case Event::Type::text: return "text";
    case Event::Type::binary: return "binary";
    case Event::Type::ping: return "ping";
    case Event::Type::pong: return "pong";
    case Event::Type::error: return "error";
    case Event::Type::close: return "close";
  }
  return "?";
}

namespace {

using framing::Opcode;

// Output buffer capacity kept across messages; more is freed once drained.
constexpr std::size_t kKeepCapacity = 64 * 1024;

// A close reason is at most 123 bytes of UTF-8 (§5.5.1: 125 minus the code).
// Cut a longer text at a code point boundary.
std::string truncate_reason(std::string_view text) {
  constexpr std::size_t kMaxReason = framing::kMaxControlPayload - 2;
  if (text.size() <= kMaxReason) return std::string(text);
  std::size_t n = kMaxReason;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a continuation byte
  return std::string(text.substr(0, n));
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Connection::Connection(Options options, TimePoint now, Observer* observer)
    : options_(std::move(options)),
      observer_(observer),
      now_(now),
      handshake_deadline_(now + options_.handshake_timeout),
      head_reader_(options_.handshake_limits, options_.role == Role::client),
      parser_(framing::ParserOptions{options_.role, 0, options_.max_frame_size}),
      assembler_(framing::AssemblerOptions{options_.max_message_size}),
      keepalive_(options_.heartbeat, now),
      closer_(options_.role, options_.close_timeout) {
  if (options_.permessage_deflate) deflate_negotiator_.emplace(*options_.permessage_deflate);
  to_assembler_ = [this](std::span<const std::uint8_t> piece) { return assembler_.on_payload(piece); };
}

// --- State ------------------------------------------------------------------

void Connection::set_state(ReadyState to, std::string_view cause, TimePoint now) {
  if (to == state_) return;
  const ReadyState from = state_;
  state_ = to;
  if (observer_) observer_->on_transition(Transition{from, to, now, cause});
}

void Connection::open(TimePoint now, std::string_view cause) {
  set_state(ReadyState::OPEN, cause, now);
  keepalive_ = heartbeat::Keepalive(options_.heartbeat, now);  // heartbeats start now
  emit(Event{.type = Event::Type::open});
}

bool Connection::has_event() {
  if (events_.empty()) run_pending(now_);
  return !events_.empty();
}

void Connection::run_pending(TimePoint now) {
  if (pending_close_) {
    const close::ClosePayload payload = std::move(*pending_close_);
    pending_close_.reset();
    apply_close_received(payload, now);
  }
  if (pending_failure_) {
    pending_failure_ = false;
    apply_failure(now);
  }
}

Event Connection::next_event() {
  if (events_.empty()) throw std::logic_error("Connection::next_event: no event pending");
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Connection::consume_output(std::size_t n) {
  out_sent_ += std::min(n, buffered_amount());
  if (out_sent_ == out_.size()) {
    // Drained. A buffer that grew for one large message is given back, so an
    // idle connection does not keep its busiest moment's memory.
    if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
    else out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ > 64 * 1024 && out_sent_ > out_.size() / 2) {
    out_.erase(0, out_sent_);  // compact once the sent prefix dominates
    out_sent_ = 0;
  }
}

// --- Opening handshake (chapter 2) -------------------------------------------

MaybeViolation Connection::connect(const uri::Uri& target, TimePoint now) {
  if (options_.role != Role::client) throw std::logic_error("Connection::connect: not a client");
  if (state_ != ReadyState::CONNECTING || client_request_)
    throw std::logic_error("Connection::connect: already connecting");
  now_ = now;
  handshake_deadline_ = now + options_.handshake_timeout;
  handshake::ClientOptions client = options_.client;
  if (deflate_negotiator_) {
    // Chapter 7: permessage-deflate is offered by its negotiator (RFC 7692 §5).
    for (const handshake::Extension& e : client.extensions)
      if (e.name == deflate_negotiator_->name())
        throw std::invalid_argument("Connection::connect: Options::client.extensions offers permessage-deflate "
                                    "and Options::permessage_deflate is set: use one");
    for (auto& offer : deflate_negotiator_->client_offers()) client.extensions.push_back(std::move(offer));
  }
  auto request = handshake::make_client_request(target, client);
  if (!request) {
    failure_ = request.violation();
    emit(Event{.type = Event::Type::error, .violation = request.violation()});
    set_state(ReadyState::CLOSED, "handshake failed: " + request.violation().message(), now);
    close_transport_ = true;
    emit(Event{.type = Event::Type::close, .code = close::abnormal_closure,
               .reason = request.violation().message()});
    return request.violation();
  }
  client_request_ = std::move(request.value());
  out_ += client_request_->bytes;
  if (observer_) observer_->on_handshake(HandshakeRecord{Direction::sent, now, client_request_->bytes});
  return std::nullopt;
}

void Connection::receive_handshake(std::span<std::uint8_t> bytes, TimePoint now) {
  if (upgrade_request_) {
    // Server, waiting for the application to accept: keep what the client
    // sent early (bounded), to be read as frames once OPEN.
    if (early_bytes_.size() + bytes.size() > options_.max_message_size) {
      reject(Violation(error::request_too_large, "data sent before the handshake completed"), now);
      return;
    }
    early_bytes_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return;
  }

  std::size_t consumed = 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const auto status = head_reader_.feed(data, consumed);
  const bool server = options_.role == Role::server;
  auto handshake_failed = [&](const Violation& v) {
    failure_ = v;
    emit(Event{.type = Event::Type::error, .violation = v});
    if (server) {
      reject(v, now);
    } else {
      set_state(ReadyState::CLOSED, "handshake failed: " + v.message(), now);
      close_transport_ = true;
      emit(Event{.type = Event::Type::close, .code = close::abnormal_closure, .reason = v.message()});
      }
  };

  if (status == handshake::HeadReader::Status::need_more) return;
  if (status == handshake::HeadReader::Status::failed) {
    handshake_failed(head_reader_.violation());
    return;
  }
  const std::string& head = head_reader_.head();
  if (observer_) observer_->on_handshake(HandshakeRecord{Direction::received, now, head});
  auto rest = bytes.subspan(consumed);

  if (server) {
    auto request = handshake::parse_request(head);
    if (!request) return handshake_failed(request.violation());
    auto upgrade = handshake::validate_request(*request);
    if (!upgrade) return handshake_failed(upgrade.violation());
    upgrade_request_ = upgrade.value();
    early_bytes_.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
    emit(Event{.type = Event::Type::request, .request = std::move(upgrade.value())});
    return;
  }

  // Client: §4.1, the server's response.
  auto response = handshake::parse_response(head);
  if (!response) return handshake_failed(response.violation());
  auto agreement = handshake::validate_response(*response, *client_request_);
  if (!agreement) return handshake_failed(agreement.violation());
  // Chapter 7: the negotiator checks the server's answer to its offer
  // (RFC 7692 §7.1); a response it cannot accept fails the connection.
  for (const handshake::Extension& e : agreement->extensions)
    if (deflate_negotiator_ && e.name == deflate_negotiator_->name())
      if (auto v = deflate_negotiator_->client_accept(e)) return handshake_failed(*v);
  protocol_ = agreement->subprotocol.value_or("");
  extensions_ = handshake::format_extensions(agreement->extensions);
  start_extensions();
  open(now, "handshake accepted: 101");
  receive_frames(rest, now);
}

void Connection::accept(const handshake::AcceptOptions& options, TimePoint now) {
  if (options_.role != Role::server || !upgrade_request_ || state_ != ReadyState::CONNECTING)
    throw std::logic_error("Connection::accept: no upgrade request is waiting");
  if (options.subprotocol) {
    const auto& offered = upgrade_request_->subprotocols;
    if (std::find(offered.begin(), offered.end(), *options.subprotocol) == offered.end())
      throw std::invalid_argument("Connection::accept: subprotocol \"" + *options.subprotocol +
                                  "\" was not offered by the client (RFC 6455 §4.2.2)");
  }
  // §4.2.2 /extensions/ and §9.1: the server lists only extensions the
  // client requested (EX-3); an application's own must have been offered.
  for (const handshake::Extension& e : options.extensions) {
    const auto& offered = upgrade_request_->extensions;
    if (std::none_of(offered.begin(), offered.end(), [&](const handshake::Extension& o) { return o.name == e.name; }))
      throw std::invalid_argument("Connection::accept: extension \"" + e.name +
                                  "\" was not offered by the client (RFC 6455 §4.2.2, §9.1)");
  }
  now_ = now;
  handshake::AcceptOptions accepted = options;
  if (deflate_negotiator_) {
    // Chapter 7: answer the client's permessage-deflate offers, if one is
    // acceptable (RFC 7692 §5, §7.1); otherwise the connection goes on
    // without compression.
    for (const handshake::Extension& e : options.extensions)
      if (e.name == deflate_negotiator_->name())
        throw std::invalid_argument("Connection::accept: the extensions name permessage-deflate, which "
                                    "Options::permessage_deflate negotiates");
    std::vector<handshake::Extension> offers;
    for (const handshake::Extension& e : upgrade_request_->extensions)
      if (e.name == deflate_negotiator_->name()) offers.push_back(e);
    if (!offers.empty())
      if (auto response = deflate_negotiator_->server_accept(offers)) accepted.extensions.push_back(*response);
  }
  const std::size_t start = out_.size();
  out_ += handshake::make_accept_response(*upgrade_request_, accepted);
  if (observer_)
    observer_->on_handshake(
        HandshakeRecord{Direction::sent, now, std::string_view(out_).substr(start)});
  protocol_ = accepted.subprotocol.value_or("");
  extensions_ = handshake::format_extensions(accepted.extensions);
  upgrade_request_.reset();
  start_extensions();
  open(now, "handshake accepted: 101");
  if (!early_bytes_.empty()) {
    std::string early = std::move(early_bytes_);
    early_bytes_.clear();
    receive_frames({reinterpret_cast<std::uint8_t*>(early.data()), early.size()}, now);
  }
}

// Chapter 7: once the handshake agreed permessage-deflate, its codec sits
// between the frame parser and the message assembler, and the parser lets
// RSV1 through (RFC 6455 §5.2: "unless an extension is negotiated that
// defines meanings for non-zero values").
void Connection::start_extensions() {
  if (!deflate_negotiator_ || !deflate_negotiator_->agreement()) return;
  const extensions::Settings& s = deflate_negotiator_->settings();
  deflate_.emplace(options_.role, *deflate_negotiator_->agreement(), options_.max_message_size, s.level,
                   s.mem_level);
  parser_.set_allowed_rsv(static_cast<std::uint8_t>(parser_.options().allowed_rsv | deflate_->rsv_bits()));
}

void Connection::reject(const Violation& why, TimePoint now) {
  if (options_.role != Role::server || state_ != ReadyState::CONNECTING)
    throw std::logic_error("Connection::reject: not a server in CONNECTING");
  now_ = now;
  const std::size_t start = out_.size();
  out_ += handshake::make_reject_response(why);
  if (observer_)
    observer_->on_handshake(
        HandshakeRecord{Direction::sent, now, std::string_view(out_).substr(start)});
  upgrade_request_.reset();
  early_bytes_.clear();
  input_done_ = true;
  close_transport_ = true;
  set_state(ReadyState::CLOSED,
            "handshake rejected: " + std::to_string(why.http_status()) + " " + why.detail(), now);
  emit(Event{.type = Event::Type::close, .code = close::abnormal_closure, .reason = why.message()});
}

// --- Input ---------------------------------------------------------------------

void Connection::receive(std::string_view bytes, TimePoint now) {
  receive(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                        bytes.size()),
          now);
}

void Connection::receive(std::span<const std::uint8_t> bytes, TimePoint now) {
  // The parser unmasks in place, so const input is copied once.
  scratch_.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  receive(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(scratch_.data()), scratch_.size()),
          now);
}

void Connection::receive(std::span<std::uint8_t> bytes, TimePoint now) {
  now_ = now;
  if (input_done_ || state_ == ReadyState::CLOSED || bytes.empty()) return;
  if (state_ == ReadyState::CONNECTING) {
    if (options_.role == Role::client && !client_request_)
      throw std::logic_error("Connection::receive: a client must connect() first");
    receive_handshake(bytes, now);
  } else {
    receive_frames(bytes, now);
  }
}

void Connection::set_observer(Observer* observer) {
  observer_ = observer;
  preview_.clear();
}

FrameRecord Connection::received_record(TimePoint now, const Violation* violation) const {
  FrameRecord r{Direction::received, now, parser_.header(), parser_.raw_header(), preview_, violation};
  r.compressed = deflate_ && deflate_->compressed_frame();
  return r;
}

void Connection::observe_received_frame(TimePoint now, const Violation* violation) {
  if (!observer_) return;
  observer_->on_frame(received_record(now, violation));
}

// Chapter 3 (with 4): bytes -> frames -> messages. Everything decoded before a
// bad frame is delivered first; after it nothing more is processed (§7.1.7).
void Connection::receive_frames(std::span<std::uint8_t> bytes, TimePoint now) {
  using Step = framing::FrameParser::Step;
  while (!input_done_) {
    switch (parser_.next(bytes)) {
      case Step::need_more:
        return;
      case Step::header: {
        if (observer_) preview_.clear();
        auto v = assembler_.on_header(parser_.header());
        // Chapter 7: RSV1 only where RFC 7692 §6 allows it.
        if (!v && deflate_) v = deflate_->on_header(parser_.header());
        if (v) {
          observe_received_frame(now, &*v);
          return fail(*v, now);
        }
        break;
      }
      case Step::payload: {
        const auto chunk = parser_.payload();
        if (observer_ && preview_.size() < options_.payload_preview) {
          const std::size_t n = std::min(chunk.size(), options_.payload_preview - preview_.size());
          preview_.append(reinterpret_cast<const char*>(chunk.data()), n);
        }
        // A compressed message's payload is inflated as it arrives; the
        // assembler (size limit, UTF-8) sees the inflated bytes.
        auto v = deflate_ && deflate_->compressed_frame() ? deflate_->inflate(chunk, to_assembler_)
                                                         : assembler_.on_payload(chunk);
        if (v) {
          observe_received_frame(now, &*v);
          return fail(*v, now);
        }
        break;
      }
      case Step::frame_end: {
        const framing::FrameHeader& h = parser_.header();
        const bool ends_compressed_message =
            deflate_ && deflate_->compressed_frame() && h.fin && !framing::is_control(h.opcode);
        if (deflate_) {
          if (auto v = deflate_->on_frame_end(to_assembler_)) {  // the last inflated bytes
            observe_received_frame(now, &*v);
            return fail(*v, now);
          }
        }
        auto completed = assembler_.on_frame_end();
        if (!completed) {
          observe_received_frame(now, &completed.violation());
          return fail(completed.violation(), now);
        }
        if (observer_) {
          FrameRecord r = received_record(now, nullptr);
          if (ends_compressed_message && *completed) {
            const std::string& payload = (*completed)->payload;
            r.uncompressed_size = payload.size();
            r.uncompressed_preview = std::string_view(payload).substr(0, options_.payload_preview);
          }
          observer_->on_frame(r);
        }
        std::optional<std::uint64_t> compressed_size;
        if (ends_compressed_message) compressed_size = deflate_->compressed_size();
        if (*completed) on_message(std::move(**completed), now, compressed_size);
        break;
      }
      case Step::failed:
        observe_received_frame(now, &parser_.violation());
        return fail(parser_.violation(), now);
    }
  }
}

void Connection::on_message(framing::Message message, TimePoint now, std::optional<std::uint64_t> compressed_size) {
  switch (message.opcode) {
    case Opcode::text:
      emit(Event{.type = Event::Type::text, .data = std::move(message.payload), .compressed_size = compressed_size});
      break;
    case Opcode::binary:
      emit(Event{.type = Event::Type::binary, .data = std::move(message.payload), .compressed_size = compressed_size});
      break;
    case Opcode::ping: {
      // Chapter 5: answer with the identical payload (§5.5.2), unless a Close
      // was received (then we never get here: input stops at the Close).
      if (auto pong = heartbeat::pong_for(bytes_of(message.payload), closer_.close_received()))
        send_frame(Opcode::pong, true, *pong, now);
      emit(Event{.type = Event::Type::ping, .data = std::move(message.payload)});
      break;
    }
    case Opcode::pong: {
      auto rtt = keepalive_.on_pong(bytes_of(message.payload), now);
      emit(Event{.type = Event::Type::pong, .data = std::move(message.payload), .rtt = rtt});
      break;
    }
    case Opcode::close:
      on_close_frame(message.payload, now);
      break;
    case Opcode::continuation:
      break;  // the assembler never hands up a bare continuation
  }
}

// Chapter 6: a Close arrived.
void Connection::on_close_frame(const std::string& payload, TimePoint now) {
  auto parsed = close::parse_payload(bytes_of(payload));
  if (!parsed) return fail(parsed.violation(), now);
  input_done_ = true;  // §5.5.1: nothing after a Close is delivered
  // Messages that came before the Close are answered first (has_event()).
  if (!events_.empty()) {
    pending_close_ = std::move(*parsed);
    return;
  }
  apply_close_received(*parsed, now);
}

void Connection::apply_close_received(const close::ClosePayload& payload, TimePoint now) {
  const std::uint16_t code = payload.code.value_or(close::no_status_received);
  if (auto reply = closer_.on_close_received(payload, now)) send_close_frame(*reply, now);
  if (state_ == ReadyState::OPEN)
    set_state(ReadyState::CLOSING, "received close " + std::to_string(code), now);
  // The server closes TCP first (§7.1.1); a client waits for it (see tick()).
  if (closer_.should_close_tcp(now)) close_transport_ = true;
}

// §7.1.7 Fail the WebSocket Connection: send one Close with the rule's code,
// close the TCP connection, and process nothing more.
void Connection::fail(const Violation& violation, TimePoint now) {
  if (failure_ || state_ == ReadyState::CLOSED) return;
  const bool behind_other_events = !events_.empty();
  failure_ = violation;
  input_done_ = true;
  emit(Event{.type = Event::Type::error, .violation = violation});
  // Frames decoded before the bad one are handled (and answered) first.
  if (behind_other_events) {
    pending_failure_ = true;
    return;
  }
  apply_failure(now);
}

void Connection::apply_failure(TimePoint now) {
  const Violation& violation = *failure_;
  const std::uint16_t code = violation.close_code();
  if (!closer_.close_sent() && close::valid_on_wire(code)) {
    auto started = closer_.start(close::ClosePayload{code, truncate_reason(violation.detail())}, now);
    if (started && *started) send_close_frame(**started, now);
  }
  if (state_ == ReadyState::OPEN) set_state(ReadyState::CLOSING, "failed: " + violation.message(), now);
  close_transport_ = true;
}

void Connection::transport_closed(TimePoint now) {
  now_ = now;
  if (state_ == ReadyState::CLOSED) return;
  run_pending(now);
  input_done_ = true;
  close_transport_ = true;
  if (state_ == ReadyState::CONNECTING) {
    const Violation v(error::abnormal_closure, "TCP connection closed during the opening handshake");
    if (!failure_) {
      failure_ = v;
      emit(Event{.type = Event::Type::error, .violation = v});
    }
    set_state(ReadyState::CLOSED, "TCP connection closed during the handshake", now);
    emit(Event{.type = Event::Type::close, .code = close::abnormal_closure, .reason = v.message()});
    return;
  }
  Event e{.type = Event::Type::close};
  if (closer_.sent()) e.sent_code = closer_.sent()->code.value_or(close::no_status_received);
  if (failure_) {
    // We failed the connection (§7.1.7): the Close code is that of the first
    // Close received (§7.1.5), and after failing we process none, not even
    // the peer's answer to ours: 1006, not clean (as a browser reports it).
    // The reason names the rule broken; `sent_code` the code we sent.
    const auto& received = closer_.received();
    e.code = received ? received->code.value_or(close::no_status_received) : close::abnormal_closure;
    e.reason = failure_->message();
  } else if (closer_.complete()) {
    const auto outcome = closer_.outcome();
    e.code = outcome.code;
    e.reason = outcome.reason;
    e.was_clean = outcome.was_clean;
  } else {
    // §7.2.1 / CL-7: the TCP connection went away without a close handshake.
    const Violation v(error::abnormal_closure, closer_.close_sent()
                                                   ? "TCP connection closed before the peer answered our close"
                                                   : "TCP connection closed without a close frame");
    failure_ = v;
    emit(Event{.type = Event::Type::error, .violation = v});
    e.code = close::abnormal_closure;
    e.reason = v.message();
  }
  set_state(ReadyState::CLOSED,
            e.was_clean ? "TCP closed after close " + std::to_string(e.code)
                        : "TCP closed: " + e.reason,
            now);
  emit(std::move(e));
}

// --- Time ----------------------------------------------------------------------

void Connection::tick(TimePoint now) {
  now_ = now;
  if (events_.empty()) run_pending(now);
  switch (state_) {
    case ReadyState::CONNECTING:
      if (now >= handshake_deadline_ && (options_.role == Role::server || client_request_)) {
        const Violation v(error::handshake_timeout,
                          "opening handshake not complete after " +
                              std::to_string(options_.handshake_timeout.count()) + " ms");
        if (options_.role == Role::server) {
          failure_ = v;
          emit(Event{.type = Event::Type::error, .violation = v});
          reject(v, now);
        } else {
          failure_ = v;
          emit(Event{.type = Event::Type::error, .violation = v});
          set_state(ReadyState::CLOSED, "handshake failed: " + v.message(), now);
          close_transport_ = true;
          emit(Event{.type = Event::Type::close, .code = close::abnormal_closure, .reason = v.message()});
              }
      }
      break;
    case ReadyState::OPEN: {
      auto action = keepalive_.poll(now);
      if (action.kind == heartbeat::Keepalive::Action::Kind::send_ping)
        send_frame(Opcode::ping, true, action.ping_payload, now);
      else if (action.kind == heartbeat::Keepalive::Action::Kind::fail)
        fail(*action.violation, now);
      break;
    }
    case ReadyState::CLOSING:
      if (closer_.timed_out(now) || closer_.should_close_tcp(now)) close_transport_ = true;
      break;
    case ReadyState::CLOSED:
      break;
  }
}

TimePoint Connection::next_deadline() const {
  switch (state_) {
    case ReadyState::CONNECTING: return close_transport_ ? TimePoint::max() : handshake_deadline_;
    case ReadyState::OPEN: return keepalive_.next_deadline();
    case ReadyState::CLOSING: return close_transport_ ? TimePoint::max() : closer_.next_deadline();
    case ReadyState::CLOSED: return TimePoint::max();
  }
  return TimePoint::max();
}

// --- Sending -------------------------------------------------------------------

bool Connection::can_send_data() const { return state_ == ReadyState::OPEN && closer_.may_send_data(); }

void Connection::send_frame(Opcode opcode, bool fin, std::string_view payload, TimePoint now,
                            const Compressed* compressed) {
  framing::FrameHeader h;
  h.fin = fin;
  h.rsv1 = compressed && compressed->first;  // RFC 7692 §6: the "Per-Message Compressed" bit
  h.opcode = static_cast<std::uint8_t>(opcode);
  // §5.1, §5.3: a client masks every frame with a fresh key; a server never.
  h.mask = options_.role == Role::client;
  if (h.mask) h.masking_key = masking::random_key();
  h.payload_length = payload.size();
  h.length_form = framing::minimal_length_form(payload.size());
  const std::size_t start = out_.size();
  framing::append_frame(out_, h, payload);
  if (observer_) {
    FrameRecord r{Direction::sent, now, h,
                  std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(out_.data() + start),
                                                h.header_size()),
                  payload.substr(0, options_.payload_preview), nullptr};
    r.compressed = compressed != nullptr;
    if (compressed && fin) {
      r.uncompressed_size = compressed->message_size;
      r.uncompressed_preview = compressed->preview.substr(0, options_.payload_preview);
    }
    observer_->on_frame(r);
  }
}

// A whole data message: compressed when permessage-deflate was agreed
// (RFC 7692 §7.2.1), as it is otherwise.
void Connection::send_message(Opcode opcode, std::string_view data) {
  if (!deflate_) return send_frame(opcode, true, data, now_);
  const std::string payload = deflate_->compress(data);
  const Compressed compressed{true, data.size(), data.substr(0, options_.payload_preview)};
  send_frame(opcode, true, payload, now_, &compressed);
}

void Connection::send_close_frame(const std::string& payload, TimePoint now) {
  send_frame(Opcode::close, true, payload, now);
}

bool Connection::send_text(std::string_view text) {
  if (!can_send_data()) return false;
  if (!framing::is_valid_utf8(text))
    throw std::invalid_argument("Connection::send_text: text is not valid UTF-8 (RFC 6455 §5.6)");
  send_message(Opcode::text, text);
  return true;
}

bool Connection::send_binary(std::string_view data) {
  if (!can_send_data()) return false;
  send_message(Opcode::binary, data);
  return true;
}

bool Connection::send_binary(std::span<const std::uint8_t> data) {
  return send_binary(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

bool Connection::send_fragments(Opcode opcode, std::span<const std::string_view> fragments) {
  if (opcode != Opcode::text && opcode != Opcode::binary)
    throw std::invalid_argument("Connection::send_fragments: a message is text or binary (RFC 6455 §5.4)");
  if (!can_send_data()) return false;
  if (opcode == Opcode::text) {
    framing::Utf8Validator utf8;  // the message as a whole must be UTF-8 (§5.6)
    for (auto f : fragments) utf8.feed(f);
    if (!utf8.complete())
      throw std::invalid_argument("Connection::send_fragments: text is not valid UTF-8 (RFC 6455 §5.6)");
  }
  if (fragments.empty()) {
    send_message(opcode, {});
    return true;
  }
  if (deflate_) {
    // RFC 7692 §6.1: the message is compressed as a whole, one deflate stream
    // across its fragments; each fragment's part ends with a sync flush so it
    // can go out at once, and RSV1 is set on the first frame only.
    Compressed compressed;
    std::string preview;
    for (auto f : fragments) {
      compressed.message_size += f.size();
      if (observer_ && preview.size() < options_.payload_preview)
        preview.append(f.substr(0, options_.payload_preview - preview.size()));
    }
    compressed.preview = preview;
    std::string payload;
    for (std::size_t i = 0; i < fragments.size(); ++i) {
      const bool last = i + 1 == fragments.size();
      payload.clear();
      deflate_->compress(fragments[i], last, payload);
      compressed.first = i == 0;
      send_frame(i == 0 ? opcode : Opcode::continuation, last, payload, now_, &compressed);
    }
    return true;
  }
  for (std::size_t i = 0; i < fragments.size(); ++i)
    send_frame(i == 0 ? opcode : Opcode::continuation, i + 1 == fragments.size(), fragments[i], now_);
  return true;
}

bool Connection::send_ping(std::string_view payload) {
  if (payload.size() > framing::kMaxControlPayload)
    throw std::invalid_argument("Connection::send_ping: a ping carries at most 125 bytes (RFC 6455 §5.5)");
  if (state_ != ReadyState::OPEN) return false;
  send_frame(Opcode::ping, true, payload, now_);
  keepalive_.on_ping_sent(bytes_of(payload), now_);
  return true;
}

bool Connection::send_pong(std::string_view payload) {
  if (payload.size() > framing::kMaxControlPayload)
    throw std::invalid_argument("Connection::send_pong: a pong carries at most 125 bytes (RFC 6455 §5.5)");
  if (state_ != ReadyState::OPEN) return false;
  send_frame(Opcode::pong, true, payload, now_);
  return true;
}

void Connection::close(std::uint16_t code, std::string_view reason) {
  const close::ClosePayload request{code, std::string(reason)};
  auto payload = close::encode_payload(request);
  if (!payload) throw std::invalid_argument("Connection::close: " + payload.violation().message());
  switch (state_) {
    case ReadyState::CONNECTING: {
      // Closing before the handshake finished abandons it (the WHATWG API
      // fails the connection here).
      input_done_ = true;
      close_transport_ = true;
      set_state(ReadyState::CLOSED, "closed by the application during the handshake", now_);
      emit(Event{.type = Event::Type::close, .code = close::abnormal_closure,
                 .reason = "closed by the application during the handshake"});
        return;
    }
    case ReadyState::OPEN: {
      auto started = closer_.start(request, now_);
      if (started && *started) {
        send_close_frame(**started, now_);
        set_state(ReadyState::CLOSING, "sent close " + std::to_string(code), now_);
      }
      return;
    }
    case ReadyState::CLOSING:
    case ReadyState::CLOSED:
      return;  // a close is already under way
  }
}

}  // namespace wslab::connection
