# Every dependency is found here and exposed as an imported target.
find_package(Threads REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Torch REQUIRED)
# libtiff directly: ITK 5.2 neither writes 32-bit integer TIFFs nor reads them correctly.
find_package(TIFF REQUIRED)
find_package(PNG REQUIRED)
find_path(LIBDEFLATE_INCLUDE_DIR libdeflate.h REQUIRED)
find_library(LIBDEFLATE_LIBRARY deflate REQUIRED)
add_library(nucseg_libdeflate INTERFACE)
target_include_directories(nucseg_libdeflate INTERFACE ${LIBDEFLATE_INCLUDE_DIR})
target_link_libraries(nucseg_libdeflate INTERFACE ${LIBDEFLATE_LIBRARY})

# ITK: components we read and process with. IO factories are registered explicitly in
# lib/io/itk_setup.cpp, so ITK_USE_FILE (which adds non-system include paths) is not used.
set(NUCSEG_ITK_COMPONENTS
  ITKCommon ITKIOImageBase ITKIOTIFF ITKIOPNG ITKIOJPEG ITKIOBMP ITKIOLSM ITKIOMeta
  ITKImageGrid ITKImageIntensity ITKImageFunction ITKThresholding ITKConnectedComponents
  ITKDistanceMap ITKMathematicalMorphology ITKBinaryMathematicalMorphology ITKWatersheds
  ITKLabelMap ITKImageLabel ITKImageStatistics ITKSmoothing)
find_package(ITK 5 REQUIRED COMPONENTS ${NUCSEG_ITK_COMPONENTS})
add_library(nucseg_itk INTERFACE)
target_include_directories(nucseg_itk SYSTEM INTERFACE ${ITK_INCLUDE_DIRS})
target_link_libraries(nucseg_itk INTERFACE ${ITK_LIBRARIES})

if(NUCSEG_USE_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()
