// api_flood_bench: a flood of gRPC calls at a daemon's API from many
// clients at once, each on a connection of its own; bounded in calls and
// in time. Prints one JSON object: calls by status code, OK latencies, the
// calls answered per second and the first message of each code.
//
//   api_flood_bench --target unix:/abs/gw.sock
//       --method /shortcut.gateway.v1.Gateway/GetStats
//       [--clients 1000] [--outstanding 2] [--calls 20000] [--seconds 20]
//       [--deadline-ms 5000] [--payload empty|garbage|big] [--big-bytes N]
//
// Payloads: `empty` (an empty request message: GetStats, ListEndpoints of
// everything, GetManagerStatus), `garbage` (bytes that are no protobuf),
// `big` (a request whose field 1 holds a message of N bytes: above the
// server's max_message_bytes it is refused before being parsed).
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;
  std::string method;
  int clients = 1000;
  int outstanding = 2;
  long calls = 20000;
  double seconds = 20;
  int deadline_ms = 5000;
  std::string payload = "empty";
  long big_bytes = 80 << 20;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "api_flood_bench: %s\nusage: api_flood_bench --target T --method /pkg.Svc/Method "
               "[--clients N] [--outstanding N] [--calls N] [--seconds S] [--deadline-ms MS] "
               "[--payload empty|garbage|big] [--big-bytes N]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage(("missing value after " + flag).c_str());
    std::string v = argv[++i];
    if (flag == "--target")
      o.target = v;
    else if (flag == "--method")
      o.method = v;
    else if (flag == "--clients")
      o.clients = std::atoi(v.c_str());
    else if (flag == "--outstanding")
      o.outstanding = std::atoi(v.c_str());
    else if (flag == "--calls")
      o.calls = std::atol(v.c_str());
    else if (flag == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (flag == "--deadline-ms")
      o.deadline_ms = std::atoi(v.c_str());
    else if (flag == "--payload")
      o.payload = v;
    else if (flag == "--big-bytes")
      o.big_bytes = std::atol(v.c_str());
    else
      Usage(("unknown flag " + flag).c_str());
  }
  if (o.target.empty() || o.method.empty()) Usage("--target and --method are required");
  if (o.clients < 1 || o.clients > 20000) Usage("--clients: 1..20000");
  if (o.outstanding < 1 || o.outstanding > 64) Usage("--outstanding: 1..64");
  if (o.calls < 1 || o.calls > 10000000) Usage("--calls: 1..10000000");
  if (o.seconds <= 0 || o.seconds > 600) Usage("--seconds: (0, 600]");
  if (o.payload != "empty" && o.payload != "garbage" && o.payload != "big") {
    Usage("--payload: empty, garbage or big");
  }
  if (o.big_bytes < 1 || o.big_bytes > (1L << 30)) Usage("--big-bytes: 1..2^30");
  return o;
}

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string Payload(const Options& o) {
  if (o.payload == "empty") return "";
  if (o.payload == "garbage") {
    std::mt19937 rng(7);
    std::string bytes(64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() | 0x80);  // Varints that never end.
    return bytes;
  }
  // Field 1, length-delimited, holding a message whose field 1 is a string.
  std::string inner = "\x0a";
  Varint(inner, static_cast<uint64_t>(o.big_bytes));
  inner.append(static_cast<size_t>(o.big_bytes), 'x');
  std::string outer = "\x0a";
  Varint(outer, inner.size());
  return outer + inner;
}

struct Call {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  Clock::time_point start;
  int client = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  std::string payload = Payload(o);
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int c = 0; c < o.clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("api_flood.client", c);  // Distinct arguments: a connection of its own.
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    stubs.push_back(std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args)));
  }
  long started = 0;
  Clock::time_point begin = Clock::now();
  Clock::time_point end =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  auto start_call = [&](int client) {
    auto* call = new Call();
    call->client = client;
    call->start = Clock::now();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(o.deadline_ms));
    grpc::Slice slice(payload);
    grpc::ByteBuffer request(&slice, 1);
    call->reader = stubs[client]->PrepareUnaryCall(&call->context, o.method, request, &cq);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    ++started;
  };
  for (int k = 0; k < o.outstanding; ++k) {
    for (int c = 0; c < o.clients && started < o.calls; ++c) start_call(c);
  }
  std::map<int, long> codes;
  std::map<int, std::string> first_message;
  std::vector<double> ok_ms;
  long finished = 0;
  while (finished < started) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    auto* call = static_cast<Call*>(tag);
    ++finished;
    int code = call->status.error_code();
    ++codes[code];
    if (!first_message.contains(code)) first_message[code] = call->status.error_message();
    if (call->status.ok()) {
      ok_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - call->start).count());
    }
    int client = call->client;
    delete call;
    if (started < o.calls && Clock::now() < end) start_call(client);
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  cq.Shutdown();
  std::sort(ok_ms.begin(), ok_ms.end());
  auto pct = [&](double p) {
    return ok_ms.empty() ? 0.0 : ok_ms[static_cast<size_t>(p * (ok_ms.size() - 1))];
  };
  std::printf(
      "{\"method\": \"%s\", \"payload\": \"%s\", \"clients\": %d, \"calls\": %ld, "
      "\"seconds\": %.2f, \"answered_per_s\": %.0f, \"ok_p50_ms\": %.2f, "
      "\"ok_p99_ms\": %.2f, \"codes\": {",
      o.method.c_str(), o.payload.c_str(), o.clients, finished, elapsed, finished / elapsed,
      pct(0.5), pct(0.99));
  bool first = true;
  for (const auto& [code, n] : codes) {
    std::printf("%s\"%d\": %ld", first ? "" : ", ", code, n);
    first = false;
  }
  std::printf("}, \"messages\": {");
  first = true;
  for (const auto& [code, m] : first_message) {
    std::string escaped;
    for (char ch : m) {
      if (ch == '"' || ch == '\\') escaped.push_back('\\');
      if (static_cast<unsigned char>(ch) >= 0x20) escaped.push_back(ch);
    }
    std::printf("%s\"%d\": \"%s\"", first ? "" : ", ", code, escaped.c_str());
    first = false;
  }
  std::printf("}}\n");
  return 0;
}
