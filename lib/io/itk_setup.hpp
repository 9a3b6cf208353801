#pragma once
namespace nucseg::io {
/// Registers ITK's image IO factories (TIFF, PNG, BMP, LSM, Meta; JPEGs are io/jpeg_reader's)
/// and creates ITK's global singletons, once. Call it on the main thread before starting threads that use ITK:
/// ITK 5.2 does not lock the creation of its singletons.
void register_itk_io();
}  // namespace nucseg::io
