// A GatewayService served by a real grpc::Server on a Unix socket in a temp
// dir, its Gateway on an io_context thread, two hosts simulated by
// FakeSwitch, and a real client stub: what service and CLI tests share.
//
// Everything on the io_context (the Gateway, the switches) is touched from
// the test thread only through OnIo/AwaitIo, or while the io thread is not
// running (SetUp before it starts, TearDown after it stopped).
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/gateway/gateway.h"
#include "src/gateway/server.h"
#include "src/gateway/service.h"
#include "tests/fakes/fake_switch.h"
#include "tests/gateway/sim_hosts.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway::testing {

class ServiceFixture : public ::testing::Test {
 protected:
  virtual GatewayService::Options ServiceOptions() { return {}; }
  virtual apiserver::ApiLimits ServerLimits() { return {}; }

  void SetUp() override {
    SimHosts hosts;
    absl::Status started = hosts.Start(io_.get_executor(), dir_, {"host1", "host2"});
    ASSERT_TRUE(started.ok()) << started;
    targets_ = std::move(hosts.targets);
    switches_ = std::move(hosts.switches);
    gw_ = std::make_unique<Gateway>(io_.get_executor(), TestGatewayOptions());
    service_ = std::make_unique<GatewayService>(io_.get_executor(), gw_.get(), ServiceOptions());
    service_->set_stats_hook([](v1::GetStatsResponse& stats) { stats.set_packet_ins(42); });
    auto server = GatewayServer::Start("unix:" + dir_.File("gw.sock"), service_.get(), nullptr,
                                       ServerLimits());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    io_thread_ = std::thread([this] { io_.run(); });
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Gateway::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(0);
    work_.reset();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
    server_.reset();
    service_.reset();
    gw_.reset();
    switches_.clear();
  }

  // Runs fn() on the io thread and returns its result.
  template <typename F>
  auto OnIo(F fn) {
    std::promise<decltype(fn())> done;
    asio::post(io_, [&] { done.set_value(fn()); });
    return done.get_future().get();
  }
  // Runs a coroutine on the io thread to its end.
  void AwaitIo(std::function<asio::awaitable<void>()> fn) {
    std::promise<void> done;
    asio::co_spawn(io_, std::move(fn), [&](std::exception_ptr) { done.set_value(); });
    done.get_future().wait();
  }
  // What the host's OVSDB would report: the VM's port is there.
  void BindPort(const std::string& host, const std::string& iface, uint32_t ofport) {
    AwaitIo([&]() -> asio::awaitable<void> {
      absl::Status s = co_await gw_->BindPort(host, iface, ofport);
      EXPECT_TRUE(s.ok()) << s;
    });
  }
  size_t Flows(const std::string& host) {
    return OnIo([&] { return switches_[host]->flow_count(); });
  }

  // ---- Requests. ----

  v1::SetClusterRequest Cluster() {
    v1::SetClusterRequest c;
    c.set_cluster_id(9);
    c.set_self("gw1");
    v1::GatewayMember* m = c.add_members();
    m->set_name("gw1");
    m->set_underlay_ip("172.31.2.1");
    int i = 1;
    for (const char* name : {"host1", "host2"}) {
      v1::Host* h = c.add_hosts();
      h->set_name(name);
      h->set_underlay_ip("172.31.1." + std::to_string(i++));
      h->set_openflow(targets_[name]);
    }
    return c;
  }
  grpc::Status SetCluster(const v1::SetClusterRequest& request) {
    grpc::ClientContext context;
    v1::SetClusterResponse response;
    return stub_->SetCluster(&context, request, &response);
  }
  static v1::Vpc Vpc(const std::string& id, uint32_t vni, const std::string& cidr) {
    v1::Vpc vpc;
    vpc.set_id(id);
    vpc.set_vni(vni);
    vpc.set_router_mac("02:5c:00:00:00:01");
    v1::Network* n = vpc.add_networks();
    n->set_id("net1");
    n->set_ipv4_cidr(cidr);
    return vpc;
  }
  // Key "epNN", MAC from the key's number, iface-id = key.
  static v1::Endpoint Ep(const std::string& key, const std::string& ip, const std::string& host,
                         const std::string& vpc = "vpc1") {
    v1::Endpoint e;
    e.set_key(key);
    e.set_vpc(vpc);
    e.set_network("net1");
    e.set_ipv4(ip);
    int n = std::stoi(key.substr(2));
    char mac[18];
    std::snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", (n >> 8) & 0xff, n & 0xff);
    e.set_mac(mac);
    e.set_host(host);
    e.set_iface_id(key);
    return e;
  }
  // One AddVpc stream of these messages, then (`end`) an empty batch
  // marked last.
  grpc::Status AddVpc(const std::vector<v1::AddVpcRequest>& messages,
                      v1::AddVpcResponse* response = nullptr, bool end = true) {
    grpc::ClientContext context;
    v1::AddVpcResponse ignored;
    auto writer = stub_->AddVpc(&context, response ? response : &ignored);
    bool open = true;
    for (const v1::AddVpcRequest& m : messages) {
      if (!(open = writer->Write(m))) break;
    }
    if (open && end) {
      v1::AddVpcRequest last;
      last.mutable_endpoints()->set_last(true);
      writer->Write(last);
    }
    writer->WritesDone();
    return writer->Finish();
  }
  static v1::AddVpcRequest VpcItem(const v1::Vpc& vpc) {
    v1::AddVpcRequest r;
    *r.mutable_vpc() = vpc;
    return r;
  }
  static v1::AddVpcRequest Batch(const std::vector<v1::Endpoint>& endpoints) {
    v1::AddVpcRequest r;
    for (const v1::Endpoint& e : endpoints) *r.mutable_endpoints()->add_endpoints() = e;
    return r;
  }
  grpc::Status UpdateEndpoint(const v1::Endpoint& e, v1::UpdateEndpointResponse* response) {
    grpc::ClientContext context;
    v1::UpdateEndpointRequest request;
    *request.mutable_endpoint() = e;
    return stub_->UpdateEndpoint(&context, request, response);
  }
  v1::ListEndpointsResponse List(const std::string& vpc = "", const std::string& host = "") {
    grpc::ClientContext context;
    v1::ListEndpointsRequest request;
    request.set_vpc(vpc);
    request.set_host(host);
    v1::ListEndpointsResponse response;
    grpc::Status s = stub_->ListEndpoints(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  std::vector<std::string> Keys(const std::string& vpc = "", const std::string& host = "") {
    std::vector<std::string> keys;
    v1::ListEndpointsResponse list = List(vpc, host);
    for (const auto& e : list.endpoints()) keys.push_back(e.endpoint().key());
    return keys;
  }
  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    v1::GetStatsResponse response;
    grpc::Status s = stub_->GetStats(&context, v1::GetStatsRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  v1::ListHostsResponse Hosts() {
    grpc::ClientContext context;
    v1::ListHostsResponse response;
    grpc::Status s = stub_->ListHosts(&context, v1::ListHostsRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  shortcut::testing::TempDir dir_{"shortcut-service"};
  std::map<std::string, std::string> targets_;
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<GatewayServer> server_;
  std::thread io_thread_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

}  // namespace shortcut::gateway::testing
