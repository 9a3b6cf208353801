#include <filesystem>
#include <system_error>

#include "batch/completion.hpp"
#include "batch/output_layout.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "io/image_writer.hpp"
#include "measure/records.hpp"
#include "measure/tables.hpp"
#include "pipeline/predict_run.hpp"

namespace nucseg::predict_run {
namespace stdfs = std::filesystem;
using nlohmann::json;
using batch::join;

namespace {

/// Writes mask, overlay, probability map and nucleus rows of one image, then its completion
/// marker (last, so that a crash leaves the image to be redone).
void write_image_outputs(const Run& r, const batch::InputItem& item, const Prepared& p) {
  const auto& out = r.o.out();
  batch::CompletionRecord rec;
  rec.id = item.id;
  rec.input = item.from_dataset() ? item.path + "#" + std::to_string(item.dataset_index) : item.path;
  rec.model_hash = r.m.sha256;
  rec.settings_hash = r.settings_hash;
  const auto write = [&](const std::string& rel, auto&& writer) {
    batch::ensure_parent(join(out, rel));
    writer(join(out, rel));
    rec.outputs.push_back({rel, 0});
  };
  int bits = 0;
  write(batch::rel_output("masks", item.id, ".tif"), [&](const std::string& path) { bits = io::write_label_tiff(p.labels, path); });
  if (batch::wants_overlay(p.index, r.o.overlays()))
    write(batch::rel_output("overlays", item.id, ".png"),
          [&](const std::string& path) { io::write_rgb_png(io::make_overlay(p.raw, p.labels), path); });
  if (r.o.probabilities())
    write(batch::rel_output("probabilities", item.id, ".tif"),
          [&](const std::string& path) { io::write_float_tiff(p.probabilities, path); });
  write(batch::fragment_rel(item.id), [&](const std::string& path) {
    auto table = measure::make_nuclei_table();
    measure::append_nuclei_rows(table, p.info, p.nuclei);
    table.write(path);
  });
  rec.result = json{{"info", measure::info_to_json(p.info)},
                    {"summary", measure::summary_to_json(p.summary)},
                    {"label_bits", bits},
                    {"scale", p.scale},
                    {"noise", p.noise},
                    {"denoise_sigma", p.denoise_sigma},
                    {"dim_nuclei", p.dim_nuclei},
                    {"input_signature", batch::input_signature(item.path)}};
  std::error_code ec;
  stdfs::remove(batch::failure_path(out, item.id), ec);
  batch::write_done_marker(out, batch::done_dir(out), std::move(rec));
}

void write_failure(const Run& r, const batch::InputItem& item, const measure::ImageInfo& info, const std::string& error) {
  log::warn("predict: '{}' failed: {}", item.path, error);
  const auto path = batch::failure_path(r.o.out(), item.id);
  batch::ensure_parent(path);
  fs::write_text_atomic(path, json{{"id", item.id}, {"input", item.path}, {"info", measure::info_to_json(info)},
                                   {"error", error}}.dump(1) + "\n");
}

}  // namespace

void write_image(const Run& r, Prepared& p, PredictReport& report, std::size_t& smoothed) {
  const auto& item = r.items[p.index];
  if (p.error.empty()) {
    try {
      write_image_outputs(r, item, p);
    } catch (const Interrupted&) {
      throw;
    } catch (const OutputError&) {
      throw;
    } catch (const std::exception& e) {
      p.error = e.what();
    }
  }
  if (!p.error.empty()) {
    write_failure(r, item, p.info, p.error);
    ++report.failed;
    return;
  }
  ++report.processed;
  if (p.denoise_sigma > 0) ++smoothed;
  report.megapixels += static_cast<double>(p.raw.width) * p.raw.height / 1e6;
}

}  // namespace nucseg::predict_run
