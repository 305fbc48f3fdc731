// `wslab`: the command-line face of the library. Options are parsed with
// POCO Util; each subcommand takes the ones that apply to it and names any
// that do not. Every error is one line on stderr and a documented status.
#include "commands.hpp"
#include "demo.hpp"

#include <Poco/Exception.h>
#include <Poco/Util/Application.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/OptionSet.h>

#include <iostream>
#include <unistd.h>

namespace wslab::app {
namespace {

constexpr const char* kUsage = R"(usage: wslab <command> [arguments] [options]

commands:
  serve                       run the WebSocket server (see `wslab help serve`)
  connect URL                 interactive client: type lines to send them
  send URL MESSAGE            send one message, print the reply, exit
  frame decode HEX...         draw a frame as RFC 6455 §5.2's bit diagram
  frame encode --text T ...   build a frame (see `wslab help frame`)
  handshake accept KEY        compute Sec-WebSocket-Accept step by step
  deflate MESSAGE...          compress messages as permessage-deflate does (RFC 7692)
  inflate HEX... [/ HEX...]   inflate permessage-deflate payloads (see `wslab help deflate`)
  demo [--step]               walk through every chapter in the terminal
  tour [--url URL] [--once]   a scripted client walks a live server through every chapter
  watch [--url URL]           a server's trace stream as ASCII bit diagrams
  course list|show N|check N|next
                              the lessons: status, read one, check one, what next
  help [COMMAND]              this text, or one command's options

exit status: 0 success; 2 usage error; 3 invalid input (the message names the
rule); 4 could not connect or the handshake was refused; 5 the connection
failed or closed abnormally; 6 no answer in time
)";

constexpr const char* kServeHelp = R"(usage: wslab serve [options]

Runs the WebSocket server: GET / a demo page, /healthz, and the WebSocket
endpoints /ws (echo), /chat/ws (broadcast), /trace/ws (trace stream).
SIGINT or SIGTERM: close 1001 to every client, wait for the close
handshakes (up to --close-timeout), exit 0.

  --host ADDR               address to listen on           (127.0.0.1)
  --port N                  port, 0 for any free one        (8080)
  --tls-cert FILE           PEM certificate: serve wss://
  --tls-key FILE            PEM private key for --tls-cert
  --tls-self-signed         a throw-away certificate for localhost
  --max-message SIZE        largest message, else close 1009 (16M)
  --max-frame SIZE          largest frame, else close 1009   (16M)
  --max-connections N       more get HTTP 503               (10000)
  --max-header-bytes SIZE   request head limit, else 431    (8K)
  --handshake-timeout DUR   to finish the opening handshake (10s)
  --close-timeout DUR       to finish the close handshake   (5s)
  --ping-interval DUR       ping idle peers; 0 = never      (30s)
  --pong-timeout DUR        fail a peer silent this long    (30s)
  --origin ORIGIN           allow only these Origins (repeatable); others, and
                            requests without an Origin header, get 403
  --host-name NAME          answer only requests whose Host is NAME or
                            NAME:PORT (repeatable); others get 421 (RFC 6455
                            §4.2.1, against DNS rebinding). Default: any Host
  --no-deflate              do not accept permessage-deflate (RFC 7692): every
                            message goes uncompressed
  --log-level LEVEL         error, warning, information, debug (information)

The trace (docs/trace-format.md): every handshake, frame and readyState
change of every connection, streamed to viewers on /trace/ws (wslab-viz,
wslab watch) and/or written to a JSON Lines file. No viewer, no file: no
tracing work at all.
  --trace-file FILE         also record the trace to FILE (JSON Lines)
  --no-trace                no /trace/ws endpoint (404)
  --trace-preview N         payload bytes per frame event   (64)
  --trace-viewer-buffer SIZE  a viewer further behind misses events,
                            counted and reported            (1M)
)";

constexpr const char* kClientHelp = R"(usage: wslab connect URL [options]
       wslab send URL (MESSAGE | --binary HEX) [options]

connect: each line typed is sent as a text message; also
  /ping [data]   /binary HEX   /close [code [reason]]
received messages and readyState changes are printed.
send: sends MESSAGE, prints the first reply, closes with 1000.

  --subprotocol NAME        offer a subprotocol (repeatable)
  --origin ORIGIN           send an Origin header
  --binary HEX              (send) send these bytes as a binary message instead
  --timeout DUR             connect / reply timeout           (10s)
  --insecure                wss://: do not verify the certificate (unsafe)
  --ca-file FILE            wss://: trust this PEM bundle instead of the system's
  --proxy URL               HTTP proxy (CONNECT); default: $http_proxy / $https_proxy
  --no-deflate              do not offer permessage-deflate (RFC 7692): every
                            message goes uncompressed
  --trace-file FILE         (connect) record this side's trace to FILE (JSON Lines,
                            docs/trace-format.md; replay with wslab-viz --replay)
)";

constexpr const char* kTourHelp = R"(usage: wslab tour [--url ws://127.0.0.1:8080] [--pause 1.5s] [--once]
       wslab watch [--url ws://127.0.0.1:8080/trace/ws] [--count N]

tour: a scripted client walks a live `wslab serve` through every chapter,
one narrated line per step: the handshake, a text message, the same text in
3 fragments, a masked binary message, ping and pong, a broken frame on a
second connection (the server's close code shown), the close handshake.
Round after round until Ctrl-C (on a terminal, Enter skips a pause and
Ctrl-D stops). A server that is not there, or a failed round, is retried
after a random delay of up to 5 s, then longer ones up to 30 s (RFC 6455
§7.2.3: clients must not all reconnect at once).
  --url URL                 the server (its /ws echo is used)  (ws://127.0.0.1:8080)
  --pause DUR               between steps                       (1.5s)
  --once                    one round, then exit (4: no server within --timeout)
  --timeout DUR             connect / answer timeout            (5s)

watch: subscribes to the server's trace stream and prints every frame as
RFC 6455 §5.2's bit diagram, every handshake and readyState change as one
line; reconnects when the server goes away, with the same backoff as the
tour. What wslab-viz shows, without a display.
  --url URL                 the trace stream          (ws://127.0.0.1:8080/trace/ws)
  --count N                 exit after N frames
  --timeout DUR             connect timeout            (5s)
)";

constexpr const char* kFrameHelp = R"(usage: wslab frame decode HEX...
       wslab frame encode (--text TEXT | --binary HEX) [options]

encode builds any frame, broken ones included, and draws it:
  --opcode OP               text, binary, close, ping, pong, continuation or 0x0-0xF
  --mask KEY                mask with KEY (8 hex digits) or "random"
  --no-fin                  FIN = 0 (a fragment)
  --rsv1, --rsv2, --rsv3    set a reserved bit
  --length-form 7|16|64     write the length in this form, even a non-minimal one
  --close-code N            a close frame with code N and --text as the reason
)";

constexpr const char* kDeflateHelp = R"(usage: wslab deflate [options] MESSAGE...
       wslab inflate [options] HEX... [/ HEX...]

permessage-deflate (RFC 7692 §7.2) step by step, with the extensions chapter.
deflate: each MESSAGE compressed as a sender does it: DEFLATE ending in a
sync flush, its last 4 octets 00 00 ff ff removed, the frame with RSV1 set.
inflate: each payload (messages separated by /) inflated as a receiver does
it: 00 00 ff ff appended, inflated, stopped at the size limit. The messages
share one compressor (inflater): with context takeover a later message may
refer back to an earlier one.
  --window-bits N           LZ77 window 2^N bytes, 8-15            (15)
  --no-context-takeover     start every message with an empty window
  --hex                     (deflate) print only each payload, in hex
  --max-message SIZE        (inflate) largest message, else 1009   (16M)
)";

constexpr const char* kCourseHelp = R"(usage: wslab course list
       wslab course show N [--answers]
       wslab course check N
       wslab course next

The course in lessons/ (its README: how it works). N is a lesson's number
or name: 3, 03, framing.
  list                      every lesson, its title and status (not started,
                            passed / failed on DATE; 00 and the capstone have
                            no check: read on DATE, or -)
  show N                    the lesson as text; quiz answers stay hidden
  --answers                 (show) print the quiz answers too
  check N                   build chapter N from lessons/NN-name/exercise/ and
                            run its tests (cumulative): cmake --preset learner
                            -DWSLAB_LEARNER=NAME, then cmake --build
                            build/learner --target check_NAME; records the
                            result; exit 0 passed, 1 failed
  next                      the first chapter not passed and how to check it

Progress: build/learner/course-progress.json. The repository is found
upwards from the current directory (a folder with lessons/ and
CMakePresets.json), or set WSLAB_ROOT.
)";

class Wslab : public Poco::Util::Application {
 public:
  Options options;

 protected:
  void defineOptions(Poco::Util::OptionSet& set) override {
    // Name, whether it takes a value, whether it may be given more than once.
    struct Def {
      const char* name;
      const char* arg;
      bool repeatable;
    };
    static const Def defs[] = {
        {"help", nullptr, false},          {"host", "ADDR", false},
        {"port", "N", false},              {"tls-cert", "FILE", false},
        {"tls-key", "FILE", false},        {"tls-self-signed", nullptr, false},
        {"max-message", "SIZE", false},    {"max-frame", "SIZE", false},
        {"max-connections", "N", false},   {"max-header-bytes", "SIZE", false},
        {"handshake-timeout", "DUR", false}, {"close-timeout", "DUR", false},
        {"ping-interval", "DUR", false},   {"pong-timeout", "DUR", false},
        {"origin", "ORIGIN", true},        {"host-name", "NAME", true},
        {"log-level", "LEVEL", false},
        {"subprotocol", "NAME", true},     {"binary", "HEX", false},
        {"timeout", "DUR", false},         {"insecure", nullptr, false},
        {"ca-file", "FILE", false},        {"proxy", "URL", false},
        {"text", "TEXT", false},           {"opcode", "OP", false},
        {"mask", "KEY", false},            {"no-fin", nullptr, false},
        {"rsv1", nullptr, false},          {"rsv2", nullptr, false},
        {"rsv3", nullptr, false},          {"length-form", "BITS", false},
        {"close-code", "N", false},        {"step", nullptr, false},
        {"trace-file", "FILE", false},     {"no-trace", nullptr, false},
        {"trace-preview", "N", false},     {"trace-viewer-buffer", "SIZE", false},
        {"url", "URL", false},             {"pause", "DUR", false},
        {"once", nullptr, false},          {"count", "N", false},
        {"answers", nullptr, false},       {"no-deflate", nullptr, false},
        {"window-bits", "N", false},       {"no-context-takeover", nullptr, false},
        {"hex", nullptr, false},
    };
    for (const auto& d : defs) {
      Poco::Util::Option o(d.name, "");
      o.repeatable(d.repeatable).callback(Poco::Util::OptionCallback<Wslab>(this, &Wslab::remember));
      if (d.arg) o.argument(d.arg, true);
      set.addOption(o);
    }
  }

  void remember(const std::string& name, const std::string& value) { options.add(name, value); }

  int main(const std::vector<std::string>& args) override {
    try {
      return dispatch(args);
    } catch (const UsageError& e) {
      std::cerr << "wslab: " << e.what() << "\n(run `wslab help` for usage)\n";
      return kExitUsage;
    } catch (const InputError& e) {
      std::cerr << "wslab: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const Poco::Exception& e) {
      std::cerr << "wslab: " << e.displayText() << "\n";
      return kExitAbnormal;
    } catch (const std::exception& e) {
      std::cerr << "wslab: " << e.what() << "\n";
      return kExitAbnormal;
    }
  }

 private:
  int help(const std::string& topic) {
    if (topic == "serve") std::cout << kServeHelp;
    else if (topic == "connect" || topic == "send") std::cout << kClientHelp;
    else if (topic == "frame") std::cout << kFrameHelp;
    else if (topic == "tour" || topic == "watch") std::cout << kTourHelp;
    else if (topic == "course") std::cout << kCourseHelp;
    else if (topic == "deflate" || topic == "inflate") std::cout << kDeflateHelp;
    else std::cout << kUsage;
    return kExitOk;
  }

  int dispatch(const Args& args) {
    const std::string command = args.empty() ? "" : args[0];
    if (command.empty() && !options.has("help")) {
      std::cerr << kUsage;
      return kExitUsage;
    }
    if (command.empty() || command == "help") return help(args.size() > 1 ? args[1] : "");
    if (options.has("help")) return help(command);
    if (command == "demo") {
      options.only("demo", {"step"});
      if (args.size() != 1) throw UsageError("usage: wslab demo [--step]");
      return run_demo(std::cout, DemoOptions{.step = options.has("step") && isatty(STDIN_FILENO)});
    }
    if (command == "frame") return run_frame(args, options);
    if (command == "handshake") return run_handshake(args, options);
    if (command == "deflate") return run_deflate(args, options);
    if (command == "inflate") return run_inflate(args, options);
    if (command == "serve") return run_serve(args, options);
    if (command == "connect") return run_connect(args, options);
    if (command == "send") return run_send(args, options);
    if (command == "tour") return run_tour(args, options);
    if (command == "watch") return run_watch(args, options);
    if (command == "course") return run_course(args, options);
    throw UsageError("unknown command '" + command + "'");
  }
};

}  // namespace
}  // namespace wslab::app

int main(int argc, char** argv) {
  wslab::app::Wslab app;
  app.setUnixOptions(true);
  try {
    app.init(argc, argv);
  } catch (const Poco::Exception& e) {
    std::cerr << "wslab: " << e.displayText() << "\n(run `wslab help` for usage)\n";
    return wslab::app::kExitUsage;
  }
  return app.run();
}
