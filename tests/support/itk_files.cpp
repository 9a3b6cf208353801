#include "support/itk_files.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkJPEGImageIOFactory.h>
#include <itkRGBPixel.h>

#include "io/itk_setup.hpp"

namespace nucseg::testing {
namespace {

template <class Image>
typename Image::Pointer make(const std::array<int, Image::ImageDimension>& size) {
  auto img = Image::New();
  typename Image::SizeType s;
  for (unsigned d = 0; d < Image::ImageDimension; ++d) s[d] = static_cast<itk::SizeValueType>(size[d]);
  typename Image::RegionType region;
  region.SetSize(s);
  img->SetRegions(region);
  img->Allocate();
  return img;
}

template <class Image>
void write(const std::string& path, Image* img) {
  io::register_itk_io();
  // nucseg reads JPEGs itself and leaves ITK's JPEG IO out; fixtures are written with it.
  static const bool jpeg = (itk::JPEGImageIOFactory::RegisterOneFactory(), true);
  (void)jpeg;
  auto w = itk::ImageFileWriter<Image>::New();
  w->SetFileName(path);
  w->SetInput(img);
  w->Update();
}

}  // namespace

template <class Pixel>
void write_gray(const std::string& path, int height, int width, const std::vector<Pixel>& values) {
  using Image = itk::Image<Pixel, 2>;
  auto img = make<Image>({width, height});
  std::copy(values.begin(), values.end(), img->GetBufferPointer());
  write<Image>(path, img);
}
template void write_gray<std::uint8_t>(const std::string&, int, int, const std::vector<std::uint8_t>&);
template void write_gray<std::uint16_t>(const std::string&, int, int, const std::vector<std::uint16_t>&);
template void write_gray<std::uint32_t>(const std::string&, int, int, const std::vector<std::uint32_t>&);
template void write_gray<float>(const std::string&, int, int, const std::vector<float>&);

void write_rgb(const std::string& path, int height, int width,
               const std::vector<std::uint8_t>& values) {
  using Image = itk::Image<itk::RGBPixel<std::uint8_t>, 2>;
  auto img = make<Image>({width, height});
  auto* buf = img->GetBufferPointer();
  for (std::size_t i = 0; i < static_cast<std::size_t>(height) * width; ++i) {
    buf[i].Set(values[3 * i], values[3 * i + 1], values[3 * i + 2]);
  }
  write<Image>(path, img);
}

void write_stack_u16(const std::string& path, int pages, int height, int width,
                     const std::vector<std::uint16_t>& values) {
  using Image = itk::Image<std::uint16_t, 3>;
  auto img = make<Image>({width, height, pages});
  std::copy(values.begin(), values.end(), img->GetBufferPointer());
  write<Image>(path, img);
}

void write_4d(const std::string& path, int sx, int sy, int sz, int st) {
  using Image = itk::Image<float, 4>;
  auto img = make<Image>({sx, sy, sz, st});
  img->FillBuffer(1.0f);
  write<Image>(path, img);
}

}  // namespace nucseg::testing
