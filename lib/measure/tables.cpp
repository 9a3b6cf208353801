#include "measure/tables.hpp"

#include <map>
#include <tuple>

namespace nucseg::measure {

using batch::well_less;
using io::CsvTable;
using io::format_fixed;
namespace {

ColumnSpec col(std::string name, std::string type, std::string unit, int decimals,
               std::string description, bool nullable = false) {
  return ColumnSpec{std::move(name), std::move(type), nullable, std::move(unit), decimals,
                    std::move(description)};
}

std::string integer(long long v) { return std::to_string(v); }

}  // namespace

const std::vector<ColumnSpec>& nuclei_columns() {
  static const std::vector<ColumnSpec> c = {
      col("ImageNumber", "integer", "", 0, "1-based number of the image in the run (images.csv)."),
      col("ObjectNumber", "integer", "", 0, "Label of the nucleus in the image's label mask (1..N)."),
      col("FileName", "string", "", 0, "File name of the input image."),
      col("Metadata_Plate", "string", "", 0, "Plate, from the file-name pattern or the parent folder; empty if unknown."),
      col("Metadata_Well", "string", "", 0, "Well such as A01; empty if unknown."),
      col("Metadata_Site", "string", "", 0, "Site (field) within the well; empty if unknown."),
      col("Metadata_Channel", "string", "", 0, "Channel from the file name; empty if unknown."),
      col("Location_Center_X", "number", "px", 3, "Centroid column; the centre of the first pixel is 0."),
      col("Location_Center_Y", "number", "px", 3, "Centroid row; the centre of the first pixel is 0."),
      col("AreaShape_Area", "integer", "px²", 0, "Number of pixels."),
      col("AreaShape_Perimeter", "number", "px", 3, "Perimeter, ITK's Crofton estimate."),
      col("AreaShape_EquivalentDiameter", "number", "px", 3, "Diameter of the disk with the same area."),
      col("AreaShape_MajorAxisLength", "number", "px", 3, "Major axis of the ellipse with the same second moments (4 sqrt of the largest covariance eigenvalue)."),
      col("AreaShape_MinorAxisLength", "number", "px", 3, "Minor axis of that ellipse."),
      col("AreaShape_Eccentricity", "number", "", 4, "Eccentricity of that ellipse, 0 for a circle."),
      col("AreaShape_Solidity", "number", "", 4, "Area divided by the pixel count of the convex hull (scikit-image's definition)."),
      col("AreaShape_ITK_Roundness", "number", "", 4, "ITK roundness: perimeter of the disk of equal area divided by the perimeter."),
      col("AreaShape_ITK_Elongation", "number", "", 4, "ITK elongation: sqrt(largest / smallest principal moment), 1 for a circle."),
      col("AreaShape_BoundingBoxMinimum_X", "integer", "px", 0, "First column of the bounding box."),
      col("AreaShape_BoundingBoxMinimum_Y", "integer", "px", 0, "First row of the bounding box."),
      col("AreaShape_BoundingBoxMaximum_X", "integer", "px", 0, "One past the last column of the bounding box (exclusive, as CellProfiler)."),
      col("AreaShape_BoundingBoxMaximum_Y", "integer", "px", 0, "One past the last row of the bounding box (exclusive)."),
      col("Intensity_MeanIntensity", "number", "raw intensity", 4, "Mean of the raw (not normalized) image over the nucleus."),
      col("Intensity_IntegratedIntensity", "number", "raw intensity", 4, "Sum of the raw image over the nucleus."),
      col("Intensity_MinIntensity", "number", "raw intensity", 4, "Minimum of the raw image over the nucleus."),
      col("Intensity_MaxIntensity", "number", "raw intensity", 4, "Maximum of the raw image over the nucleus."),
      col("Intensity_StdIntensity", "number", "raw intensity", 4, "Population standard deviation of the raw image over the nucleus."),
      col("Confidence", "number", "", 4, "Mean probability of 'nucleus' the network gave the nucleus's pixels (0-1); empty when not known.", true),
      col("Location_Center_X_um", "number", "µm", 4, "Location_Center_X times the pixel width; empty without a pixel size.", true),
      col("Location_Center_Y_um", "number", "µm", 4, "Location_Center_Y times the pixel height; empty without a pixel size.", true),
      col("AreaShape_Area_um2", "number", "µm²", 4, "Area times pixel width times pixel height; empty without a pixel size.", true),
      col("AreaShape_Perimeter_um", "number", "µm", 4, "Perimeter times sqrt(pixel width * height); empty without a pixel size.", true),
      col("AreaShape_EquivalentDiameter_um", "number", "µm", 4, "EquivalentDiameter in µm; empty without a pixel size.", true),
      col("AreaShape_MajorAxisLength_um", "number", "µm", 4, "MajorAxisLength in µm; empty without a pixel size.", true),
      col("AreaShape_MinorAxisLength_um", "number", "µm", 4, "MinorAxisLength in µm; empty without a pixel size.", true),
  };
  return c;
}

const std::vector<ColumnSpec>& image_columns() {
  static const std::vector<ColumnSpec> c = {
      col("ImageNumber", "integer", "", 0, "1-based number of the image in the run."),
      col("FileName", "string", "", 0, "File name of the input image."),
      col("PathName", "string", "", 0, "Folder of the input image."),
      col("Metadata_Plate", "string", "", 0, "Plate; empty if unknown."),
      col("Metadata_Well", "string", "", 0, "Well such as A01; empty if unknown."),
      col("Metadata_Site", "string", "", 0, "Site within the well; empty if unknown."),
      col("Metadata_Channel", "string", "", 0, "Channel from the file name; empty if unknown."),
      col("Width", "integer", "px", 0, "Image width; empty if the image could not be read.", true),
      col("Height", "integer", "px", 0, "Image height; empty if the image could not be read.", true),
      col("PixelSize_um", "number", "µm", 6, "Pixel size sqrt(width * height of a pixel); empty if the image carries none.", true),
      col("Count_Nuclei", "integer", "", 0, "Number of nuclei; empty for a failed image.", true),
      col("Mean_Nuclei_AreaShape_Area", "number", "px²", 3, "Mean nucleus area; 0 without nuclei, empty for a failed image.", true),
      col("Median_Nuclei_AreaShape_Area", "number", "px²", 3, "Median nucleus area; 0 without nuclei, empty for a failed image.", true),
      col("Mean_Nuclei_AreaShape_Area_um2", "number", "µm²", 4, "Mean nucleus area in µm²; empty without a pixel size.", true),
      col("ForegroundFraction", "number", "", 6, "Fraction of pixels inside nuclei; empty for a failed image.", true),
      col("Mean_Nuclei_Confidence", "number", "", 4, "Mean Confidence of the image's nuclei (nuclei.csv); empty without nuclei or for a failed image.", true),
      col("Status", "string", "", 0, "'ok' or 'failed'."),
      col("Error", "string", "", 0, "Why the image failed; empty when ok."),
  };
  return c;
}

const std::vector<ColumnSpec>& well_columns() {
  static const std::vector<ColumnSpec> c = {
      col("Metadata_Plate", "string", "", 0, "Plate; empty if unknown."),
      col("Metadata_Well", "string", "", 0, "Well such as A01."),
      col("Count_Sites", "integer", "", 0, "Images (sites) of the well that were segmented."),
      col("Count_FailedSites", "integer", "", 0, "Images of the well that failed."),
      col("Count_Nuclei", "integer", "", 0, "Nuclei in all segmented sites of the well."),
      col("Mean_Count_Nuclei_PerSite", "number", "", 3, "Count_Nuclei / Count_Sites; empty when no site was segmented.", true),
      col("Mean_Nuclei_AreaShape_Area", "number", "px²", 3, "Mean area over all nuclei of the well; empty without nuclei.", true),
  };
  return c;
}

std::vector<std::string> column_names(const std::vector<ColumnSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  return names;
}

CsvTable make_nuclei_table() { return CsvTable(column_names(nuclei_columns())); }

void append_nuclei_rows(CsvTable& table, const ImageInfo& image,
                        const std::vector<NucleusMeasurement>& nuclei) {
  const bool um = image.has_pixel_size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double px_len = um ? std::sqrt(image.pixel_size_x * image.pixel_size_y) : nan;
  const double px_area = um ? image.pixel_size_x * image.pixel_size_y : nan;
  const auto& spec = nuclei_columns();
  for (const auto& n : nuclei) {
    const std::vector<double> numbers = {
        n.center_x, n.center_y, static_cast<double>(n.area), n.perimeter, n.equivalent_diameter,
        n.major_axis_length, n.minor_axis_length, n.eccentricity, n.solidity, n.roundness,
        n.elongation, static_cast<double>(n.bbox_min_x), static_cast<double>(n.bbox_min_y),
        static_cast<double>(n.bbox_max_x), static_cast<double>(n.bbox_max_y), n.mean_intensity,
        n.integrated_intensity, n.min_intensity, n.max_intensity, n.std_intensity, n.confidence,
        um ? n.center_x * image.pixel_size_x : nan, um ? n.center_y * image.pixel_size_y : nan,
        static_cast<double>(n.area) * px_area, n.perimeter * px_len,
        n.equivalent_diameter * px_len, n.major_axis_length * px_len,
        n.minor_axis_length * px_len};
    std::vector<std::string> cells = {integer(image.image_number), integer(n.label),
                                      image.file_name, image.metadata.plate, image.metadata.well,
                                      image.metadata.site, image.metadata.channel};
    for (std::size_t k = 0; k < numbers.size(); ++k) {
      const auto& c = spec[cells.size()];
      cells.push_back(c.type == "integer" ? integer(static_cast<long long>(std::llround(numbers[k])))
                                          : format_fixed(numbers[k], c.decimals));
    }
    table.add_row(std::move(cells));
  }
}

CsvTable images_table(const std::vector<ImageRecord>& records) {
  CsvTable t(column_names(image_columns()));
  for (const auto& r : records) {
    const auto& i = r.info;
    const bool ok = r.error.empty();
    const bool um = i.has_pixel_size();
    const double px_area = i.pixel_size_x * i.pixel_size_y;
    t.add_row({integer(i.image_number), i.file_name, i.path_name, i.metadata.plate,
               i.metadata.well, i.metadata.site, i.metadata.channel,
               i.width > 0 ? integer(i.width) : "", i.height > 0 ? integer(i.height) : "",
               um ? format_fixed(std::sqrt(px_area), 6) : "",
               ok ? integer(static_cast<long long>(r.summary.count)) : "",
               ok ? format_fixed(r.summary.mean_area, 3) : "",
               ok ? format_fixed(r.summary.median_area, 3) : "",
               ok && um ? format_fixed(r.summary.mean_area * px_area, 4) : "",
               ok ? format_fixed(r.summary.foreground_fraction, 6) : "",
               ok ? format_fixed(r.summary.mean_confidence, 4) : "", ok ? "ok" : "failed",
               r.error});
  }
  return t;
}

CsvTable wells_table(const std::vector<ImageRecord>& records) {
  struct Well {
    std::string plate, well;
    long long sites = 0, failed = 0, nuclei = 0;
    double area_sum = 0;
  };
  auto less = [](const std::pair<std::string, std::string>& a,
                 const std::pair<std::string, std::string>& b) {
    if (a.first != b.first) return a.first < b.first;
    return well_less(a.second, b.second);
  };
  std::map<std::pair<std::string, std::string>, Well, decltype(less)> wells(less);
  for (const auto& r : records) {
    const auto& md = r.info.metadata;
    if (md.well.empty()) continue;
    auto& w = wells[{md.plate, md.well}];
    w.plate = md.plate;
    w.well = md.well;
    if (!r.error.empty()) {
      ++w.failed;
      continue;
    }
    ++w.sites;
    w.nuclei += static_cast<long long>(r.summary.count);
    w.area_sum += r.summary.mean_area * static_cast<double>(r.summary.count);
  }
  CsvTable t(column_names(well_columns()));
  for (const auto& [key, w] : wells) {
    t.add_row({w.plate, w.well, integer(w.sites), integer(w.failed), integer(w.nuclei),
               w.sites ? format_fixed(static_cast<double>(w.nuclei) / w.sites, 3) : "",
               w.nuclei ? format_fixed(w.area_sum / w.nuclei, 3) : ""});
  }
  return t;
}

}  // namespace nucseg::measure
