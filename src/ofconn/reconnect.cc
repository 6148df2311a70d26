#include "src/ofconn/reconnect.h"

#include <algorithm>
#include <utility>

namespace shortcut::ofconn {

std::string_view ReconnectStateName(ReconnectState state) {
  switch (state) {
    case ReconnectState::kVoid:
      return "VOID";
    case ReconnectState::kBackoff:
      return "BACKOFF";
    case ReconnectState::kConnecting:
      return "CONNECTING";
    case ReconnectState::kActive:
      return "ACTIVE";
    case ReconnectState::kIdle:
      return "IDLE";
    case ReconnectState::kReconnect:
      return "RECONNECT";
  }
  return "?";
}

Reconnect::Reconnect(Options options) : options_(options) {
  options_.min_backoff = std::max<Millis>(options_.min_backoff, 1);
  options_.max_backoff = std::max(options_.max_backoff, options_.min_backoff);
  options_.probe_interval = std::max<Millis>(options_.probe_interval, 0);
}

void Reconnect::Transition(Millis now, ReconnectState state) {
  if (state_ == ReconnectState::kConnecting) {
    ++attempts_;
    if (state == ReconnectState::kActive) ++successes_;
  }
  state_ = state;
  state_entered_ = now;
}

void Reconnect::Enable(Millis now) {
  if (state_ != ReconnectState::kVoid) return;
  Transition(now, ReconnectState::kBackoff);
  backoff_ = 0;  // The first attempt is immediate.
}

void Reconnect::Disable(Millis now) {
  if (state_ != ReconnectState::kVoid) Transition(now, ReconnectState::kVoid);
}

void Reconnect::ForceReconnect(Millis now) {
  if (is_connected() || state_ == ReconnectState::kConnecting) {
    Transition(now, ReconnectState::kReconnect);
  }
}

void Reconnect::Connecting(Millis now) {
  if (state_ != ReconnectState::kConnecting) Transition(now, ReconnectState::kConnecting);
}

void Reconnect::Connected(Millis now) {
  if (is_connected()) return;
  Connecting(now);
  Transition(now, ReconnectState::kActive);
  last_connected_ = now;
  has_activity_ = false;
}

void Reconnect::ConnectFailed(Millis now, absl::Status error) {
  Connecting(now);
  Disconnected(now, std::move(error));
}

void Reconnect::Disconnected(Millis now, absl::Status error) {
  last_error_ = std::move(error);
  if (state_ == ReconnectState::kVoid || state_ == ReconnectState::kBackoff) return;
  bool stable = (state_ == ReconnectState::kActive || state_ == ReconnectState::kIdle ||
                 state_ == ReconnectState::kReconnect) &&
                has_activity_ && last_activity_ - last_connected_ >= backoff_;
  if (stable) {
    backoff_ = options_.min_backoff;
  } else if (backoff_ < options_.min_backoff) {
    backoff_ = options_.min_backoff;
  } else if (backoff_ < options_.max_backoff / 2) {
    backoff_ *= 2;
  } else {
    backoff_ = options_.max_backoff;
  }
  Transition(now, ReconnectState::kBackoff);
}

void Reconnect::Activity(Millis now) {
  if (!is_connected()) return;
  if (state_ == ReconnectState::kIdle) Transition(now, ReconnectState::kActive);
  last_activity_ = now;
  has_activity_ = true;
}

Millis Reconnect::Deadline() const {
  switch (state_) {
    case ReconnectState::kVoid:
      return -1;
    case ReconnectState::kBackoff:
      return state_entered_ + backoff_;
    case ReconnectState::kConnecting:
      // Give an attempt at least a second, and as long as the current backoff.
      return state_entered_ + std::max<Millis>(1000, backoff_);
    case ReconnectState::kActive:
      if (options_.probe_interval == 0) return -1;
      return std::max(has_activity_ ? last_activity_ : state_entered_, state_entered_) +
             options_.probe_interval;
    case ReconnectState::kIdle:
      if (options_.probe_interval == 0) return -1;
      return state_entered_ + options_.probe_interval;
    case ReconnectState::kReconnect:
      return state_entered_;
  }
  return -1;
}

ReconnectAction Reconnect::Run(Millis now) {
  Millis deadline = Deadline();
  if (deadline < 0 || now < deadline) return ReconnectAction::kNone;
  switch (state_) {
    case ReconnectState::kVoid:
      return ReconnectAction::kNone;
    case ReconnectState::kBackoff:
      return ReconnectAction::kConnect;
    case ReconnectState::kConnecting:
      return ReconnectAction::kDisconnect;
    case ReconnectState::kActive:
      Transition(now, ReconnectState::kIdle);
      return ReconnectAction::kProbe;
    case ReconnectState::kIdle:
    case ReconnectState::kReconnect:
      return ReconnectAction::kDisconnect;
  }
  return ReconnectAction::kNone;
}

Millis Reconnect::Timeout(Millis now) const {
  Millis deadline = Deadline();
  if (deadline < 0) return -1;
  return std::max<Millis>(deadline - now, 0);
}

}  // namespace shortcut::ofconn
