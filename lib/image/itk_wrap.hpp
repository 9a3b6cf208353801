#pragma once
/// Zero-copy bridges between nucseg's Y,X buffers and 2-D ITK images (spacing 1, origin 0,
/// index [0] = x, [1] = y). Internal to the library: include only from .cpp files.
#include <itkImage.h>
#include <itkImportImageFilter.h>

#include <algorithm>
#include <cstddef>

namespace nucseg::image {

template <class Pixel>
using Image2 = itk::Image<Pixel, 2>;

/// Wraps a Y,X buffer as an ITK image without copying. The buffer must outlive the image;
/// filters read it but never write it.
template <class Pixel>
typename Image2<Pixel>::Pointer wrap(const Pixel* data, int height, int width) {
  using Import = itk::ImportImageFilter<Pixel, 2>;
  auto import = Import::New();
  typename Import::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(width);
  size[1] = static_cast<itk::SizeValueType>(height);
  typename Import::RegionType region;
  region.SetSize(size);
  import->SetRegion(region);
  import->SetImportPointer(const_cast<Pixel*>(data),
                           static_cast<itk::SizeValueType>(height) * width, false);
  import->Update();
  return import->GetOutput();
}

/// A freshly allocated height x width ITK image filled with `value`.
template <class Pixel>
typename Image2<Pixel>::Pointer make_image(int height, int width, Pixel value = Pixel{}) {
  auto image = Image2<Pixel>::New();
  typename Image2<Pixel>::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(width);
  size[1] = static_cast<itk::SizeValueType>(height);
  typename Image2<Pixel>::RegionType region;
  region.SetSize(size);
  image->SetRegions(region);
  image->Allocate();
  image->FillBuffer(value);
  return image;
}

/// Copies an ITK image's buffer (height*width pixels) into `out`.
template <class Pixel, class Out>
void copy_buffer(const Image2<Pixel>& image, Out* out) {
  const auto size = image.GetBufferedRegion().GetSize();
  const Pixel* buf = image.GetBufferPointer();
  std::copy(buf, buf + static_cast<std::size_t>(size[0]) * size[1], out);
}

}  // namespace nucseg::image
