#pragma once
namespace nucseg::io {
/// Registers ITK's image IO factories (TIFF, PNG, JPEG, BMP, LSM, Meta) once; thread-safe.
void register_itk_io();
}  // namespace nucseg::io
