#pragma once
/// How much memory this process may use, for budgets sized to the machine.
#include <cstdint>

namespace nucseg {

/// The machine's physical memory, or the limit of this process's control group (a Slurm
/// job's or a container's) when that is lower; 0 when neither can be read.
std::uint64_t usable_memory_bytes();

}  // namespace nucseg
