# Every dependency is found here and exposed as an imported target.
find_package(Threads REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
# Parsers and hashes from libraries rather than by hand: SHA-256 (OpenSSL's libcrypto), OME-XML
# (expat, which ITK also uses), plate file-name patterns with named groups (PCRE2).
find_package(OpenSSL 1.1 REQUIRED COMPONENTS Crypto)
find_package(EXPAT REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
if(NOT NUCSEG_CORE_ONLY)
  find_package(Torch REQUIRED)
endif()
# LibTorch 2.13 and later need C++20 from every file that includes ATen; older ones build as C++17.
if(DEFINED Torch_VERSION AND Torch_VERSION VERSION_GREATER_EQUAL 2.13)
  set(CMAKE_CXX_STANDARD 20)
endif()
# A LibTorch built with CUDA (the Python package index's wheel) brings c10_cuda; Debian's has none.
if(C10_CUDA_LIBRARY)
  set(NUCSEG_TORCH_CUDA ON)
else()
  set(NUCSEG_TORCH_CUDA OFF)
endif()
message(STATUS "nucseg: LibTorch ${Torch_VERSION} (CUDA ${NUCSEG_TORCH_CUDA}), C++${CMAKE_CXX_STANDARD}")
# libtiff directly: ITK 5.2 neither writes 32-bit integer TIFFs nor reads them correctly.
find_package(TIFF 4.5 REQUIRED)  # TIFFOpenExt: per-file error handlers and an allocation limit
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
find_path(LIBDEFLATE_INCLUDE_DIR libdeflate.h REQUIRED)
find_library(LIBDEFLATE_LIBRARY deflate REQUIRED)
add_library(nucseg_libdeflate INTERFACE)
target_include_directories(nucseg_libdeflate INTERFACE ${LIBDEFLATE_INCLUDE_DIR})
target_link_libraries(nucseg_libdeflate INTERFACE ${LIBDEFLATE_LIBRARY})

# ITK: components we read and process with. IO factories are registered explicitly in
# lib/io/itk_setup.cpp, so ITK_USE_FILE (which adds non-system include paths) is not used.
# ITKIOJPEG is registered by the tests' fixture writer only (tests/support/itk_files.cpp).
set(NUCSEG_ITK_COMPONENTS
  ITKCommon ITKIOImageBase ITKIOTIFF ITKIOPNG ITKIOJPEG ITKIOBMP ITKIOLSM ITKIOMeta
  ITKImageGrid ITKImageIntensity ITKImageFunction ITKThresholding ITKConnectedComponents
  ITKDistanceMap ITKMathematicalMorphology ITKBinaryMathematicalMorphology ITKWatersheds
  ITKLabelMap ITKImageLabel ITKImageStatistics ITKSmoothing)
find_package(ITK 5 REQUIRED COMPONENTS ${NUCSEG_ITK_COMPONENTS})
add_library(nucseg_itk INTERFACE)
target_include_directories(nucseg_itk SYSTEM INTERFACE ${ITK_INCLUDE_DIRS})
target_link_libraries(nucseg_itk INTERFACE ${ITK_LIBRARIES})
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_options(nucseg_itk INTERFACE
    "$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/itk_clang_compat.h>")
endif()

if(NUCSEG_USE_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()

# --- NCCL: reduces gradients of CUDA tensors on the GPU (lib/train/nccl_communicator.cpp).
# Only with a CUDA LibTorch. The copy next to torch (the Python package index's
# nvidia/nccl, which torch itself loads) is preferred over the CUDA toolkit's, so that one
# process never carries two NCCLs. Without it, CUDA tensors are reduced through host memory.
set(NUCSEG_HAVE_NCCL OFF)
if(NUCSEG_TORCH_CUDA)
  set(NUCSEG_TORCH_NCCL_DIR "${TORCH_INSTALL_PREFIX}/../nvidia/nccl")
  find_path(NUCSEG_NCCL_INCLUDE_DIR nccl.h
    HINTS ${NUCSEG_TORCH_NCCL_DIR}/include ${CUDAToolkit_INCLUDE_DIRS} ${CUDA_TOOLKIT_ROOT_DIR}/include
    NO_DEFAULT_PATH)
  find_path(NUCSEG_NCCL_INCLUDE_DIR nccl.h)
  find_library(NUCSEG_NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
    HINTS ${NUCSEG_TORCH_NCCL_DIR}/lib ${CUDAToolkit_LIBRARY_DIR} ${CUDA_TOOLKIT_ROOT_DIR}/lib64
    NO_DEFAULT_PATH)
  find_library(NUCSEG_NCCL_LIBRARY NAMES nccl libnccl.so.2)
  if(NUCSEG_NCCL_INCLUDE_DIR AND NUCSEG_NCCL_LIBRARY)
    set(NUCSEG_HAVE_NCCL ON)
    add_library(nucseg_nccl INTERFACE)
    target_include_directories(nucseg_nccl SYSTEM INTERFACE ${NUCSEG_NCCL_INCLUDE_DIR})
    target_link_libraries(nucseg_nccl INTERFACE ${NUCSEG_NCCL_LIBRARY})
  endif()
endif()
message(STATUS "nucseg: NCCL ${NUCSEG_HAVE_NCCL} ${NUCSEG_NCCL_LIBRARY}")
# --- end NCCL
