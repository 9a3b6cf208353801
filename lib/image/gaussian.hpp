#pragma once
/// The one Gaussian blur: separable, on a single height x width plane, in place.
namespace nucseg::image {

/// How the kernel reads past the plane's edge: mirrored (reflect_index) or the nearest pixel
/// repeated.
enum class Edge { reflect, repeat };

/// Blurs `plane` with a Gaussian of `sigma` pixels whose kernel reaches ceil(truncate * sigma)
/// pixels each way (at least 1); sigma <= 0 leaves it unchanged.
void gaussian_blur(float* plane, int height, int width, double sigma, Edge edge, double truncate);

}  // namespace nucseg::image
