// A minimal scriptable OpenFlow 1.3 switch side, for testing clients.
//
// OfpPeer listens on a Unix socket (in a temp dir, or a given path so a test
// can restart it in place) or on 127.0.0.1:0, sends its HELLO to every client
// that connects, and answers FEATURES_REQUEST, ECHO_REQUEST and
// BARRIER_REQUEST itself. Every other request goes to the test's handler,
// whose returned messages are sent back (xid 0 is replaced by the request's
// xid). A test can also push messages at any time (Send, SendRaw), make the
// peer go silent (read but answer nothing), stop reading (so the client's
// writes back up), or close its clients.
//
// It keeps no flow tables; tests/fakes/fake_switch.h is the simulated switch.
//
// Lifetime: Start() spawns coroutines holding a shared_ptr to the peer; Stop()
// closes the listener and clients and lets them end.
//
// Thread-safety: none; use from the executor passed to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/openflow/constants.h"
#include "src/openflow/message.h"

namespace shortcut::testing {

class TempDir;

class OfpPeer : public std::enable_shared_from_this<OfpPeer> {
 public:
  using Handler = std::function<std::vector<of::Message>(const of::Message&)>;

  struct Options {
    bool tcp = false;                        // Listen on 127.0.0.1:0 instead of a Unix socket.
    std::string unix_path = {};              // Empty: a socket in a fresh temp dir.
    uint8_t hello_version = of::kVersion13;  // Header version of our HELLO.
    // Versions in our HELLO's bitmap element; empty: no bitmap element.
    std::vector<uint8_t> hello_versions = {of::kVersion13};
    uint64_t datapath_id = 0x0000'0000'0000'abcd;
    // Keep every received message (decoded) and frame (raw). Off for
    // throughput tests: the peer then decodes only what it must answer.
    bool record = true;
  };

  static absl::StatusOr<std::shared_ptr<OfpPeer>> Start(asio::any_io_executor ex, Options options);
  static absl::StatusOr<std::shared_ptr<OfpPeer>> Start(asio::any_io_executor ex) {
    return Start(std::move(ex), Options{});
  }
  ~OfpPeer();

  // "unix:/tmp/…/peer.sock" or "tcp:127.0.0.1:PORT".
  const std::string& target() const { return target_; }

  void SetHandler(Handler handler) { handler_ = std::move(handler); }
  // Silent: keep reading but answer nothing, echo included.
  void SetSilent(bool silent) { silent_ = silent; }
  // Not reading: leave the clients' bytes in the socket.
  void SetReading(bool reading);
  // To every connected client.
  void Send(of::Message msg);
  void SendRaw(of::Bytes bytes);
  void CloseClients();
  // Closes the listener (removing the socket file) and the clients.
  void Stop();

  size_t clients() const { return clients_.size(); }
  uint64_t connections_accepted() const { return accepted_; }
  uint64_t messages_received() const { return messages_received_; }
  uint64_t decode_errors() const { return decode_errors_; }
  const std::vector<of::Message>& received() const { return received_; }
  const std::vector<of::Bytes>& raw_received() const { return raw_received_; }

 private:
  struct Client;

  OfpPeer(asio::any_io_executor ex, Options options);
  absl::Status Listen();
  asio::awaitable<void> AcceptLoop(std::shared_ptr<OfpPeer> self);
  asio::awaitable<void> ReadLoop(std::shared_ptr<OfpPeer> self, std::shared_ptr<Client> c);
  asio::awaitable<void> WriteLoop(std::shared_ptr<OfpPeer> self, std::shared_ptr<Client> c);
  void Handle(Client& c, std::span<const uint8_t> frame);
  void Queue(Client& c, of::Bytes bytes);
  void QueueMessage(Client& c, const of::Message& msg);
  void CloseClient(Client& c);
  of::Bytes HelloBytes() const;

  struct Impl;
  asio::any_io_executor ex_;
  Options options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Impl> impl_;  // Acceptor and wake-up signals.
  std::string target_;
  std::vector<std::shared_ptr<Client>> clients_;
  Handler handler_;
  bool silent_ = false;
  bool reading_ = true;
  bool stopped_ = false;
  uint64_t accepted_ = 0;
  uint64_t messages_received_ = 0;
  uint64_t decode_errors_ = 0;
  std::vector<of::Message> received_;
  std::vector<of::Bytes> raw_received_;
};

// Polls pred() every millisecond until it holds (true) or `timeout` ms pass
// (false). For conditions nothing can be awaited on.
asio::awaitable<bool> WaitUntil(std::function<bool()> pred, Millis timeout = 10000);

// Lets every completion that is ready on the current executor run (a
// timer woken by a ManualClock included), `rounds` hops deep, so that "not
// yet" is checked without waiting on real time.
asio::awaitable<void> Settle(int rounds = 20);

// Runs `test` on `io` until it finishes (then stops `io`), failing the test
// if it has not finished within `timeout` ms.
void RunCoroutine(asio::io_context& io, std::function<asio::awaitable<void>()> test,
                  Millis timeout = 30000);

}  // namespace shortcut::testing
