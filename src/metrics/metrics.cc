#include "src/metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/common/fatal.h"

namespace shortcut::metrics {
namespace {

void AppendEscaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AtomicAdd(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

Labels Zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Labels out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

}  // namespace

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = absl::ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)))) return false;
  }
  return true;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // Shortest exact form.
  return ec == std::errc() ? std::string(buf, end) : absl::StrCat(v);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    Fatal("histogram bounds must increase");
  }
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  // The count is the +Inf bucket, so the two always agree in one scrape.
  s.count = total;
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, int n) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < n; ++i, v *= factor) out.push_back(v);
  return out;
}

void Writer::Family(std::string_view name, std::string_view help, Type type) {
  out_.append("# HELP ").append(name).append(" ");
  AppendEscaped(out_, help, false);
  out_.append("\n# TYPE ").append(name).append(" ").append(TypeName(type)).append("\n");
}

void Writer::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      absl::StrAppend(&out_, labels[i].first, "=\"");
      AppendEscaped(out_, labels[i].second, true);
      out_ += '"';
    }
    out_ += '}';
  }
  absl::StrAppend(&out_, " ", FormatValue(value), "\n");
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) Fatal("metric: wrong number of label values");
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = items_[values];
  if (!slot) slot = make_();
  return *slot;
}

template <typename T>
void Family<T>::ForEach(const std::function<void(const Labels&, const T&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, item] : items_) fn(Zip(label_names_, values), *item);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::Add(const std::string& name, const std::string& help, Type type,
                   std::shared_ptr<void> family) {
  if (!ValidMetricName(name)) Fatal("metric name " + name + " is not valid");
  if (type == Type::kCounter && !name.ends_with("_total")) {
    Fatal("counter " + name + " must end in _total");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : entries_) {
    if (e.name == name) Fatal("metric " + name + " registered twice");
  }
  entries_.push_back({name, help, type, std::move(family)});
}

namespace {
void CheckLabels(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (!ValidLabelName(n) || n == "le") Fatal("label name " + n + " is not valid");
  }
}
}  // namespace

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  CheckLabels(label_names);
  auto f = std::make_shared<Family<metrics::Counter>>(
      std::move(label_names), [] { return std::make_unique<metrics::Counter>(); });
  Add(name, help, Type::kCounter, f);
  return *f;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  CheckLabels(label_names);
  auto f = std::make_shared<Family<metrics::Gauge>>(
      std::move(label_names), [] { return std::make_unique<metrics::Gauge>(); });
  Add(name, help, Type::kGauge, f);
  return *f;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> label_names) {
  CheckLabels(label_names);
  auto f = std::make_shared<Family<metrics::Histogram>>(
      std::move(label_names), [bounds] { return std::make_unique<metrics::Histogram>(bounds); });
  Add(name, help, Type::kHistogram, f);
  return *f;
}

void Registry::AddCollector(std::function<void(Writer&)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Text() const {
  std::vector<Entry> entries;
  std::vector<std::function<void(Writer&)>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries = entries_;
    collectors = collectors_;
  }
  Writer w;
  for (const Entry& e : entries) {
    w.Family(e.name, e.help, e.type);
    switch (e.type) {
      case Type::kCounter:
        static_cast<const Family<metrics::Counter>*>(e.family.get())
            ->ForEach([&](const Labels& l, const metrics::Counter& c) {
              w.Sample(e.name, l, static_cast<double>(c.value()));
            });
        break;
      case Type::kGauge:
        static_cast<const Family<metrics::Gauge>*>(e.family.get())
            ->ForEach(
                [&](const Labels& l, const metrics::Gauge& g) { w.Sample(e.name, l, g.value()); });
        break;
      case Type::kHistogram:
        static_cast<const Family<metrics::Histogram>*>(e.family.get())
            ->ForEach([&](const Labels& l, const metrics::Histogram& h) {
              metrics::Histogram::Snapshot s = h.snapshot();
              std::string bucket = e.name + "_bucket";
              for (size_t i = 0; i < s.cumulative.size(); ++i) {
                Labels with = l;
                with.emplace_back("le",
                                  i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf");
                w.Sample(bucket, with, static_cast<double>(s.cumulative[i]));
              }
              w.Sample(e.name + "_sum", l, s.sum);
              w.Sample(e.name + "_count", l, static_cast<double>(s.count));
            });
        break;
    }
  }
  for (const auto& c : collectors) c(w);
  return std::move(w.text());
}

}  // namespace shortcut::metrics
