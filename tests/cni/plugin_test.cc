// shortcut-cni's commands on fakes: the order of ADD's steps, its undo on
// every failure, DEL's idempotence, CHECK, and the JSON a runtime reads.
// The fake manager brings an endpoint online only once the fake switch
// holds a port with its iface-id, as the gateway does on a real host.
#include "src/cni/plugin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "src/cni/request.h"
#include "src/cni/result.h"
#include "src/cni/run.h"

namespace shortcut::cni {
namespace {

namespace v1 = manager::v1;
using ::testing::HasSubstr;

class FakeLinks : public Links {
 public:
  absl::Status Create(const LinkSpec& spec) override {
    if (fail_create) return absl::InternalError("ip: RTNETLINK answers: File exists");
    links[spec.host_ifname] = spec;
    return absl::OkStatus();
  }
  absl::Status Delete(const std::string& host_ifname) override {
    links.erase(host_ifname);
    return absl::OkStatus();
  }
  absl::StatusOr<ContainerLink> Inspect(const std::string& netns,
                                        const std::string& ifname) override {
    for (const auto& [name, spec] : links) {
      if (spec.netns == netns && spec.ifname == ifname) {
        return ContainerLink{spec.mac, {spec.address}};
      }
    }
    return absl::NotFoundError("Cannot find device " + ifname);
  }
  std::map<std::string, LinkSpec> links;
  bool fail_create = false;
};

class FakeSwitch : public Switch {
 public:
  absl::Status AddPort(const std::string& bridge, const std::string& port,
                       const std::string& iface_id, const std::string&) override {
    if (fail_add) return absl::InternalError("ovs-vsctl: no bridge named " + bridge);
    ports[port] = iface_id;
    return absl::OkStatus();
  }
  absl::Status DeletePort(const std::string&, const std::string& port) override {
    ports.erase(port);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> PortIfaceId(const std::string& port) override {
    auto it = ports.find(port);
    if (it == ports.end()) return absl::NotFoundError("no interface " + port);
    return it->second;
  }
  std::map<std::string, std::string> ports;
  bool fail_add = false;
};

class FakeManager : public Manager {
 public:
  explicit FakeManager(const FakeSwitch* sw) : sw_(sw) {}
  absl::StatusOr<v1::Network> GetNetwork(const std::string& vpc, const std::string& id) override {
    if (!down.ok()) return down;
    if (vpc != "blue" || id != "web") return absl::NotFoundError("no network '" + id + "'");
    v1::Network n;
    n.set_vpc(vpc);
    n.set_id(id);
    n.set_ipv4_cidr("10.0.0.0/16");
    return n;
  }
  absl::StatusOr<v1::Endpoint> CreateEndpoint(const v1::Endpoint& e, uint32_t) override {
    if (!down.ok()) return down;
    requests.push_back(e);
    auto it = endpoints.find(e.key());
    if (it == endpoints.end()) {
      v1::Endpoint stored = e;
      if (stored.ipv4().empty()) stored.set_ipv4("10.0.0.2");
      stored.set_mac("0a:58:0a:00:00:02");
      stored.set_status(v1::ENDPOINT_STATUS_PENDING);
      it = endpoints.emplace(e.key(), stored).first;
    }
    bool plugged = false;
    for (const auto& [port, iface] : sw_->ports) plugged |= iface == e.iface_id();
    if (plugged && !never_online) it->second.set_status(v1::ENDPOINT_STATUS_ONLINE);
    return it->second;
  }
  absl::StatusOr<v1::Endpoint> GetEndpoint(const std::string& key) override {
    if (!down.ok()) return down;
    auto it = endpoints.find(key);
    if (it == endpoints.end()) return absl::NotFoundError("key: no endpoint '" + key + "'");
    return it->second;
  }
  absl::Status DeleteEndpoint(const std::string& key) override {
    if (!down.ok()) return down;
    if (endpoints.erase(key) == 0) return absl::NotFoundError("key: no endpoint '" + key + "'");
    return absl::OkStatus();
  }
  std::map<std::string, v1::Endpoint> endpoints;
  std::vector<v1::Endpoint> requests;
  absl::Status down;
  bool never_online = false;

 private:
  const FakeSwitch* sw_;
};

constexpr char kConf[] = R"({"cniVersion": "1.0.0", "name": "blue", "type": "shortcut-cni",
  "manager": "unix:/run/m.sock", "vpc": "blue", "network": "web", "mtu": 1400,
  "tx_checksum_offload": false, "unknown_field": 1})";

std::map<std::string, std::string> Env(const std::string& command) {
  return {{"CNI_COMMAND", command},
          {"CNI_CONTAINERID", "c0ffee"},
          {"CNI_NETNS", "/run/netns/c1"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/opt/cni/bin"}};
}

CniRequest Parse(const std::string& command, const std::string& conf = kConf,
                 std::map<std::string, std::string> extra = {}) {
  auto env = Env(command);
  for (auto& [k, v] : extra) env[k] = v;
  auto r = ParseRequest(env, conf, "host1");
  EXPECT_TRUE(std::holds_alternative<CniRequest>(r)) << std::get<Error>(r).msg;
  return std::get<CniRequest>(r);
}

class PluginTest : public ::testing::Test {
 protected:
  FakeLinks links;
  FakeSwitch sw;
  FakeManager manager{&sw};
  Plugin plugin{&links, &sw, &manager};
  // Nothing left anywhere.
  void ExpectClean() {
    EXPECT_TRUE(links.links.empty());
    EXPECT_TRUE(sw.ports.empty());
    EXPECT_TRUE(manager.endpoints.empty());
  }
};

TEST(CniNames, KeyAndHostIfnameArePinned) {
  CniRequest r = Parse("ADD");
  EXPECT_EQ(EndpointKey(r), "cni:blue:c0ffee:eth0");
  // FNV-1a 64 of the key, low 48 bits, computed outside this code base.
  EXPECT_EQ(HostIfname("cni:blue:c0ffee:eth0"), "sc862583245e69");
  EXPECT_LE(HostIfname(std::string(255, 'x')).size(), 15u);
}

TEST_F(PluginTest, AddCreatesEndpointThenLinkThenPortAndWaitsOnline) {
  CniRequest r = Parse("ADD");
  auto added = plugin.Add(r);
  ASSERT_TRUE(std::holds_alternative<Attachment>(added)) << std::get<Error>(added).msg;
  // The endpoint as asked: no address (managerd allocates), this host,
  // iface-id = key; asked twice (create, then the wait for online).
  ASSERT_EQ(manager.requests.size(), 2u);
  EXPECT_EQ(manager.requests[0].ipv4(), "");
  EXPECT_EQ(manager.requests[0].mac(), "");
  EXPECT_EQ(manager.requests[0].host(), "host1");
  EXPECT_EQ(manager.requests[0].iface_id(), "cni:blue:c0ffee:eth0");
  EXPECT_EQ(manager.endpoints.at("cni:blue:c0ffee:eth0").status(), v1::ENDPOINT_STATUS_ONLINE);
  // The link with managerd's MAC and address.
  ASSERT_EQ(links.links.size(), 1u);
  const LinkSpec& spec = links.links.at("sc862583245e69");
  EXPECT_EQ(spec.netns, "/run/netns/c1");
  EXPECT_EQ(spec.ifname, "eth0");
  EXPECT_EQ(spec.mac, "0a:58:0a:00:00:02");
  EXPECT_EQ(spec.address, "10.0.0.2/16");
  EXPECT_EQ(spec.gateway, "10.0.0.1");
  EXPECT_EQ(spec.mtu, 1400u);
  EXPECT_FALSE(spec.tx_checksum_offload);
  EXPECT_EQ(sw.ports.at("sc862583245e69"), "cni:blue:c0ffee:eth0");

  const Attachment& a = std::get<Attachment>(added);
  EXPECT_EQ(ResultJson(a, "1.0.0").dump(),
            R"({"cniVersion":"1.0.0","dns":{},"interfaces":[{"name":"sc862583245e69"},)"
            R"({"mac":"0a:58:0a:00:00:02","name":"eth0","sandbox":"/run/netns/c1"}],)"
            R"("ips":[{"address":"10.0.0.2/16","gateway":"10.0.0.1","interface":1}],)"
            R"("routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]})");
  // Older versions carry the IP version.
  EXPECT_EQ(ResultJson(a, "0.4.0")["ips"][0]["version"], "4");
}

TEST_F(PluginTest, StaticAddressFromCniArgsOrRuntimeConfig) {
  CniRequest r = Parse("ADD", kConf, {{"CNI_ARGS", "IgnoreUnknown=1;IP=10.0.3.7"}});
  ASSERT_TRUE(std::holds_alternative<Attachment>(plugin.Add(r)));
  EXPECT_EQ(manager.requests[0].ipv4(), "10.0.3.7");
  std::string conf = kConf;
  conf.insert(conf.rfind('}'), R"(, "runtimeConfig": {"ips": ["10.0.4.8/16"]})");
  EXPECT_EQ(Parse("ADD", conf).conf.static_ipv4, "10.0.4.8");
}

TEST_F(PluginTest, PortFailureUndoesLinkAndEndpoint) {
  sw.fail_add = true;
  auto added = plugin.Add(Parse("ADD"));
  ASSERT_TRUE(std::holds_alternative<Error>(added));
  const Error& e = std::get<Error>(added);
  EXPECT_EQ(e.code, ErrorCode::kSwitchFailure);
  EXPECT_EQ(e.msg, "adding the port to br-int");
  EXPECT_THAT(e.details, HasSubstr("no bridge named br-int"));
  ExpectClean();
}

TEST_F(PluginTest, LinkFailureUndoesTheEndpoint) {
  links.fail_create = true;
  auto added = plugin.Add(Parse("ADD"));
  ASSERT_TRUE(std::holds_alternative<Error>(added));
  EXPECT_EQ(std::get<Error>(added).code, ErrorCode::kLinkFailure);
  ExpectClean();
}

TEST_F(PluginTest, NeverOnlineIsTryAgainLaterAndUndoesAll) {
  manager.never_online = true;
  auto added = plugin.Add(Parse("ADD"));
  ASSERT_TRUE(std::holds_alternative<Error>(added));
  EXPECT_EQ(std::get<Error>(added).code, ErrorCode::kTryAgainLater);
  EXPECT_EQ(std::get<Error>(added).msg, "endpoint cni:blue:c0ffee:eth0 not online after 10000 ms");
  ExpectClean();
}

TEST_F(PluginTest, ManagerErrorsMapToCniCodesAndCreateNothing) {
  manager.down = absl::UnavailableError("connection refused");
  auto added = plugin.Add(Parse("ADD"));
  ASSERT_TRUE(std::holds_alternative<Error>(added));
  EXPECT_EQ(std::get<Error>(added).code, ErrorCode::kTryAgainLater);
  EXPECT_EQ(std::get<Error>(added).details, "connection refused");
  manager.down = absl::OkStatus();
  std::string conf = kConf;
  conf.replace(conf.find("\"web\""), 5, "\"db\"");
  added = plugin.Add(Parse("ADD", conf));
  ASSERT_TRUE(std::holds_alternative<Error>(added));
  EXPECT_EQ(std::get<Error>(added).code, ErrorCode::kManagerRefused);
  EXPECT_EQ(std::get<Error>(added).msg, "managerd: network: NOT_FOUND");
  ExpectClean();
}

TEST_F(PluginTest, DelUndoesAllAndIsIdempotent) {
  ASSERT_TRUE(std::holds_alternative<Attachment>(plugin.Add(Parse("ADD"))));
  // DEL may come without a namespace (the runtime lost it).
  auto env = Env("DEL");
  env.erase("CNI_NETNS");
  auto del = std::get<CniRequest>(ParseRequest(env, kConf, "host1"));
  EXPECT_FALSE(plugin.Del(del).has_value());
  ExpectClean();
  EXPECT_FALSE(plugin.Del(del).has_value());
  // managerd down: try again later, so the endpoint is not leaked.
  ASSERT_TRUE(std::holds_alternative<Attachment>(plugin.Add(Parse("ADD"))));
  manager.down = absl::UnavailableError("no active manager");
  auto e = plugin.Del(del);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, ErrorCode::kTryAgainLater);
  EXPECT_EQ(manager.endpoints.size(), 1u);
}

TEST_F(PluginTest, CheckFindsWhatDiffers) {
  auto added = plugin.Add(Parse("ADD"));
  ASSERT_TRUE(std::holds_alternative<Attachment>(added));
  std::string conf = kConf;
  std::string prev = ResultJson(std::get<Attachment>(added), "1.0.0").dump();
  conf.insert(conf.rfind('}'), ", \"prevResult\": " + prev);
  EXPECT_FALSE(plugin.Check(Parse("CHECK", conf)).has_value());

  std::string other = conf;
  other.replace(other.find("10.0.0.2/16"), 11, "10.0.0.9/16");
  auto e = plugin.Check(Parse("CHECK", other));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, ErrorCode::kNotAsExpected);
  EXPECT_EQ(e->msg, "endpoint cni:blue:c0ffee:eth0 has address 10.0.0.2, the result 10.0.0.9/16");

  sw.ports["sc862583245e69"] = "someone-else";
  e = plugin.Check(Parse("CHECK", conf));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->msg, "port sc862583245e69 has iface-id 'someone-else', not cni:blue:c0ffee:eth0");
  sw.ports["sc862583245e69"] = "cni:blue:c0ffee:eth0";
  links.links.clear();
  e = plugin.Check(Parse("CHECK", conf));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->msg, "interface eth0 in /run/netns/c1");
}

// What a runtime reads: stdout and the exit status.
class RunTest : public ::testing::Test {
 protected:
  int Run(const std::map<std::string, std::string>& env, const std::string& in) {
    out.str("");
    made = 0;
    return RunCni(
        env, in, "host1",
        [this](const NetConf&) {
          ++made;
          Backends b;
          b.links = std::make_unique<FakeLinks>();
          auto sw = std::make_unique<FakeSwitch>();
          b.manager = std::make_unique<FakeManager>(sw.get());
          b.sw = std::move(sw);
          return b;
        },
        out);
  }
  std::ostringstream out;
  int made = 0;
};

TEST_F(RunTest, VersionAndErrorsInCnisFormat) {
  EXPECT_EQ(Run({{"CNI_COMMAND", "VERSION"}}, ""), 0);
  EXPECT_EQ(out.str(),
            R"({"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]})"
            "\n");
  EXPECT_EQ(Run({{"CNI_COMMAND", "FROB"}}, kConf), 1);
  EXPECT_EQ(
      out.str(),
      R"({"cniVersion":"1.0.0","code":4,"msg":"CNI_COMMAND 'FROB' is not ADD, DEL, CHECK or VERSION"})"
      "\n");
  EXPECT_EQ(Run(Env("ADD"), "{not json"), 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("code":6)"));
  std::string old = kConf;
  old.replace(old.find("1.0.0"), 5, "0.2.0");
  EXPECT_EQ(Run(Env("ADD"), old), 1);
  EXPECT_THAT(
      out.str(),
      HasSubstr(
          R"("code":1,"details":"supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0","msg":"cniVersion 0.2.0 is not supported")"));
  std::string no_vpc = kConf;
  no_vpc.replace(no_vpc.find("\"vpc\": \"blue\","), 14, "");
  EXPECT_EQ(Run(Env("ADD"), no_vpc), 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("code":7,"msg":"network configuration: vpc is required")"));
  auto env = Env("ADD");
  env.erase("CNI_NETNS");
  EXPECT_EQ(Run(env, kConf), 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("code":4,"msg":"CNI_NETNS is not set")"));
  env = Env("ADD");
  env["CNI_IFNAME"] = "a/b";
  EXPECT_EQ(Run(env, kConf), 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("msg":"CNI_IFNAME 'a/b' is not an interface name")"));
  env = Env("CHECK");
  std::string v031 = kConf;
  v031.replace(v031.find("1.0.0"), 5, "0.3.1");
  EXPECT_EQ(Run(env, v031), 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("code":1)"));
  // No bad request ever reached a backend.
  EXPECT_EQ(made, 0);
  // A good one does, and prints the result.
  EXPECT_EQ(Run(Env("ADD"), kConf), 0);
  EXPECT_EQ(made, 1);
  EXPECT_THAT(out.str(), HasSubstr(R"("ips":[{"address":"10.0.0.2/16")"));
}

}  // namespace
}  // namespace shortcut::cni
