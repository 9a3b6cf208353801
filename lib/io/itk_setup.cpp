#include "io/itk_setup.hpp"

#include <itkBMPImageIOFactory.h>
#include <itkJPEGImageIOFactory.h>
#include <itkLSMImageIOFactory.h>
#include <itkMetaImageIOFactory.h>
#include <itkPNGImageIOFactory.h>
#include <itkTIFFImageIOFactory.h>

#include <mutex>

namespace nucseg::io {

void register_itk_io() {
  static std::once_flag once;
  std::call_once(once, [] {
    // LSM before TIFF: an LSM file is also a valid TIFF, and the LSM reader knows its tags.
    itk::LSMImageIOFactory::RegisterOneFactory();
    itk::TIFFImageIOFactory::RegisterOneFactory();
    itk::PNGImageIOFactory::RegisterOneFactory();
    itk::JPEGImageIOFactory::RegisterOneFactory();
    itk::BMPImageIOFactory::RegisterOneFactory();
    itk::MetaImageIOFactory::RegisterOneFactory();
  });
}

}  // namespace nucseg::io
