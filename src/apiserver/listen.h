// The Unix socket a daemon's API listens on: a socket file that nobody
// answers on is what a killed server leaves, and binding would fail on it.
//
// Pure functions on the file system; thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace shortcut::apiserver {

// Whether a server accepts connections on the Unix socket at `path`.
bool SocketAnswers(const std::string& path);

// Removes `path` when it is a socket nobody answers on; OK when there is no
// file. FailedPrecondition naming "listen" when it is not a socket, when a
// server answers on it (another daemon runs), or when it cannot be removed.
absl::Status RemoveStaleSocket(const std::string& path);

}  // namespace shortcut::apiserver
