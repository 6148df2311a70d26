// Prometheus metrics: counters, gauges and histograms, with labels, and
// their text exposition (format 0.0.4, what `promtool check metrics`
// reads). Two ways to feed a registry:
//   - instruments updated where things happen (a histogram of setup times,
//     a counter of API calls): Registry::AddCounter/AddGauge/AddHistogram give a
//     family, Family::With(label values) the instrument, which lives as
//     long as the registry;
//   - collectors called at every scrape, which write samples from the
//     daemon's own state (what GetStats shows), so that a value is never
//     kept twice.
//
// Names follow Prometheus' conventions (checked when a family is made, a
// fatal error if not: they are constants of the program): [a-zA-Z_:]
// [a-zA-Z0-9_:]*, counters end in _total, units in the name (_seconds).
//
// Ownership: the registry owns its families and instruments. Thread-safety:
// instruments are updated with atomics from any thread; making families and
// instruments takes a mutex; Text() runs the collectors on the calling
// thread (a daemon scrapes on the thread that owns the state they read).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace shortcut::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, increasing (+Inf is implicit).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // One per bound, then +Inf.
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // Per bucket, not cumulative.
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Buckets from `start`, each `factor` times the previous, `n` of them.
std::vector<double> ExponentialBuckets(double start, double factor, int n);

enum class Type { kCounter, kGauge, kHistogram };

// Writes samples of collected families at scrape time.
class Writer {
 public:
  // Starts a family (its HELP and TYPE lines).
  void Family(std::string_view name, std::string_view help, Type type);
  // One sample of the current family (`name`: the family's, or for a
  // histogram its _bucket, _sum and _count).
  void Sample(std::string_view name, const Labels& labels, double value);
  std::string& text() { return out_; }

 private:
  std::string out_;
};

template <typename T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The instrument of these label values (as many as the family's label
  // names; a fatal error otherwise), made on first use.
  T& With(const std::vector<std::string>& values);
  void ForEach(const std::function<void(const Labels&, const T&)>& fn) const;

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> items_;
};

class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> bounds,
                                  std::vector<std::string> label_names = {});
  // Called at every scrape, in the order added, after the instruments.
  void AddCollector(std::function<void(Writer&)> collect);

  // The exposition: every family, then what the collectors write.
  std::string Text() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    Type type;
    std::shared_ptr<void> family;
  };
  void Add(const std::string& name, const std::string& help, Type type,
           std::shared_ptr<void> family);

  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  std::vector<std::function<void(Writer&)>> collectors_;
};

// Whether `name` is a valid metric name, and a valid label name.
bool ValidMetricName(std::string_view name);
bool ValidLabelName(std::string_view name);
// A sample value as the text format writes it (+Inf, -Inf, NaN).
std::string FormatValue(double v);

}  // namespace shortcut::metrics
