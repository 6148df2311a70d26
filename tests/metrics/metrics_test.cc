// The metrics module: the exposition text written out literally (golden),
// Prometheus' own checker (promtool) on it, and the scrape endpoint over a
// real TCP connection.
#include "src/metrics/metrics.h"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/metrics/http_server.h"
#include "tests/support/subprocess.h"

namespace shortcut::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A registry with one of everything.
void Fill(Registry& r) {
  Family<Counter>& calls =
      r.AddCounter("shortcut_test_calls_total", "Calls, by method.", {"method"});
  calls.With({"Get"}).Inc(3);
  calls.With({"Put \"x\"\n"}).Inc();
  r.AddGauge("shortcut_test_hosts", "Hosts known.").With({}).Set(2);
  Family<Histogram>& h = r.AddHistogram("shortcut_test_setup_seconds",
                                        "Setup time.\\Two lines\nhere.", {0.001, 0.01, 0.1});
  Histogram& all = h.With({});
  all.Observe(0.0005);
  all.Observe(0.001);  // On a bound: counted in it (le means <=).
  all.Observe(0.05);
  all.Observe(3);
  r.AddCollector([](Writer& w) {
    w.Family("shortcut_test_host_connected", "Whether the host is connected.", Type::kGauge);
    w.Sample("shortcut_test_host_connected", {{"host", "h1"}}, 1);
    w.Sample("shortcut_test_host_connected", {{"host", "h2"}}, 0);
  });
}

TEST(Metrics, ExpositionText) {
  Registry r;
  Fill(r);
  EXPECT_EQ(r.Text(),
            "# HELP shortcut_test_calls_total Calls, by method.\n"
            "# TYPE shortcut_test_calls_total counter\n"
            "shortcut_test_calls_total{method=\"Get\"} 3\n"
            "shortcut_test_calls_total{method=\"Put \\\"x\\\"\\n\"} 1\n"
            "# HELP shortcut_test_hosts Hosts known.\n"
            "# TYPE shortcut_test_hosts gauge\n"
            "shortcut_test_hosts 2\n"
            "# HELP shortcut_test_setup_seconds Setup time.\\\\Two lines\\nhere.\n"
            "# TYPE shortcut_test_setup_seconds histogram\n"
            "shortcut_test_setup_seconds_bucket{le=\"0.001\"} 2\n"
            "shortcut_test_setup_seconds_bucket{le=\"0.01\"} 2\n"
            "shortcut_test_setup_seconds_bucket{le=\"0.1\"} 3\n"
            "shortcut_test_setup_seconds_bucket{le=\"+Inf\"} 4\n"
            "shortcut_test_setup_seconds_sum 3.0515\n"
            "shortcut_test_setup_seconds_count 4\n"
            "# HELP shortcut_test_host_connected Whether the host is connected.\n"
            "# TYPE shortcut_test_host_connected gauge\n"
            "shortcut_test_host_connected{host=\"h1\"} 1\n"
            "shortcut_test_host_connected{host=\"h2\"} 0\n");
}

TEST(Metrics, ValuesAndNames) {
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(-7), "-7");
  EXPECT_TRUE(ValidMetricName("shortcut_a:b_total"));
  EXPECT_FALSE(ValidMetricName("9lives"));
  EXPECT_FALSE(ValidMetricName("a-b"));
  EXPECT_TRUE(ValidLabelName("host"));
  EXPECT_FALSE(ValidLabelName("__name"));
  EXPECT_FALSE(ValidLabelName("a:b"));
  EXPECT_EQ(ExponentialBuckets(0.001, 10, 3), (std::vector<double>{0.001, 0.01, 0.1}));
}

TEST(MetricsDeathTest, ACounterWithoutTotalIsAProgrammingError) {
  Registry r;
  EXPECT_DEATH(r.AddCounter("shortcut_calls", "x"), "must end in _total");
}

TEST(MetricsHttp, Answers) {
  auto body = [] { return std::string("m 1\n"); };
  EXPECT_EQ(Respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 4\r\nConnection: close\r\n\r\nm 1\n");
  EXPECT_THAT(Respond("POST /metrics HTTP/1.1\r\n\r\n", body), StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(Respond("GET /other HTTP/1.1\r\n\r\n", body), StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(Respond("GET /metrics\r\n\r\n", body), StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(Respond("", body), StartsWith("HTTP/1.1 400 "));
  std::string head = Respond("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", body);
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(head, HasSubstr("Content-Length: 4\r\n"));
  EXPECT_FALSE(head.ends_with("m 1\n"));
}

// Sends `request` to 127.0.0.1:port and returns everything the server sent
// until it closed.
std::string Fetch(uint16_t port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(request));
  std::string out;
  asio::error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);
  return out;
}

TEST(MetricsHttp, ServesScrapesOverTcp) {
  asio::io_context io;
  Registry r;
  Fill(r);
  auto server = MetricsServer::Start(io.get_executor(), "127.0.0.1:0", [&] { return r.Text(); });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->port(), 0);
  auto work = asio::make_work_guard(io);
  std::thread t([&] { io.run(); });
  uint16_t port = (*server)->port();
  std::string ok = Fetch(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string big =
      Fetch(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n");
  std::string post = Fetch(port, "POST /metrics HTTP/1.1\r\n\r\n");
  asio::post(io, [&] { (*server)->Stop(); });
  work.reset();
  t.join();
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(ok.ends_with(r.Text())) << ok;
  EXPECT_THAT(big, StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405 "));
  EXPECT_EQ((*server)->requests(), 3u);
}

TEST(MetricsHttp, RefusesABadAddress) {
  asio::io_context io;
  auto body = [] { return std::string(); };
  EXPECT_FALSE(MetricsServer::Start(io.get_executor(), "localhost", body).ok());
  EXPECT_FALSE(MetricsServer::Start(io.get_executor(), "nohost:80", body).ok());
  EXPECT_FALSE(MetricsServer::Start(io.get_executor(), "127.0.0.1:70000", body).ok());
}

// Prometheus' own checker: the exposition parses and follows the naming
// conventions (promtool comes with Debian's prometheus package).
TEST(MetricsPromtool, ExpositionPassesPromtoolCheckMetrics) {
  Registry r;
  Fill(r);
  testing::RunOptions o;
  o.stdin_data = r.Text();
  testing::RunResult res = testing::RunProcess({"promtool", "check", "metrics"}, o);
  ASSERT_NE(res.exit_code, -1) << "promtool is missing (Debian package prometheus)";
  EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
  EXPECT_EQ(res.out + res.err, "");
}

}  // namespace
}  // namespace shortcut::metrics
