// Force-included before every C++ file when building with clang: Debian's ITK 5.2 was
// configured with GCC, and its generated itk_compiler_detection.h stops with "Unsupported
// compiler" for any other. It is read here once as GCC 12 would see it; clang understands
// everything that GCC branch uses. Its include guard keeps later includes from reading it again.
#pragma once
#if defined(__clang__) && defined(__cplusplus)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#pragma push_macro("__clang__")
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#pragma pop_macro("__clang__")
#pragma clang diagnostic pop
#endif
