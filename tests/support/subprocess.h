// The tests' name for src/common/subprocess.h.
#pragma once

#include "src/common/subprocess.h"

namespace shortcut::testing {

using ::shortcut::RunOptions;
using ::shortcut::RunProcess;
using ::shortcut::RunResult;
using ::shortcut::Shell;

}  // namespace shortcut::testing
