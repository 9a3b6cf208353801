#include "io/itk_setup.hpp"

#include <itkBMPImageIOFactory.h>
#include <itkDataObject.h>
#include <itkLSMImageIOFactory.h>
#include <itkMetaImageIO.h>
#include <itkMetaImageIOFactory.h>
#include <itkMultiThreaderBase.h>
#include <itkObject.h>
#include <itkObjectFactoryBase.h>
#include <itkOutputWindow.h>
#include <itkPNGImageIOFactory.h>
#include <itkTIFFImageIOFactory.h>
#include <itkTimeStamp.h>

#include <mutex>

namespace nucseg::io {

void register_itk_io() {
  static std::once_flag once;
  std::call_once(once, [] {
    // LSM before TIFF: an LSM file is also a valid TIFF, and the LSM reader knows its tags.
    itk::LSMImageIOFactory::RegisterOneFactory();
    itk::TIFFImageIOFactory::RegisterOneFactory();
    itk::PNGImageIOFactory::RegisterOneFactory();
    // No JPEG: io/jpeg_reader decodes JPEGs. ITK 5.2's JPEG reader sets its jump point for
    // libjpeg's errors in a helper that returns before libjpeg runs (wrapSetjmp), so a
    // corrupt header, even in its format probe, jumps through a stale stack frame.
    itk::BMPImageIOFactory::RegisterOneFactory();
    itk::MetaImageIOFactory::RegisterOneFactory();
    // ITK 5.2 creates its global singletons on first use and keeps them in a std::map with no
    // lock (itk::SingletonIndex). Two reader threads that first touch them at the same time
    // (a corrupt file makes every IO print a warning) corrupt that map: a crash or a hang at
    // exit. Create them all here, before any worker thread exists.
    itk::ObjectFactoryBase::GetRegisteredFactories();
    itk::OutputWindow::GetInstance();
    itk::Object::GetGlobalWarningDisplay();
    itk::DataObject::GetGlobalReleaseDataFlag();
    itk::MetaImageIO::GetDefaultDoublePrecision();
    itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
    itk::TimeStamp stamp;
    stamp.Modified();
  });
}

}  // namespace nucseg::io
