#include <chrono>
#include <filesystem>

#include "batch/completion.hpp"
#include "batch/output_layout.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "common/version.hpp"
#include "io/csv.hpp"
#include "measure/records.hpp"
#include "measure/tables.hpp"
#include "pipeline/predict.hpp"
#include "pipeline/predict_model.hpp"
#include "report/report.hpp"

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

void write_plate_report(const std::string& out) {
  try {
    report::write_report(out);
  } catch (const std::exception& e) {
    log::error("report: not written ({}); rebuild it with 'nucseg report --out {}'", e.what(), out);
  }
}

PredictReport merge_predictions(const std::string& out, bool with_report) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto run_path = batch::run_description_path(out);
  std::error_code ec;
  if (!stdfs::is_regular_file(run_path, ec))
    throw InputError("'" + out + "' holds no nucseg predict run (no .nucseg/inputs.json)");
  const json run = batch::read_json_file(run_path);
  if (run.value("format", std::string()) != kRunFormat)
    throw InputError("'" + run_path + "' is not a nucseg predict run description");
  const std::string model_hash = run["model"].value("sha256", std::string());
  const std::string settings_hash = run.value("settings_hash", std::string());
  for (const auto& stale : fs::remove_stale_temps(batch::merged_output_paths(out)))
    log::info("merge: removed '{}', left by a killed run", stale);

  PredictReport report;
  auto nuclei = measure::make_nuclei_table();
  io::CsvTable failures({"ImageNumber", "FileName", "Input", "Error"});
  std::vector<measure::ImageRecord> records;
  std::vector<std::string> missing;
  json failure_list = json::array();
  const auto& inputs = run.at("inputs");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string id = inputs[i].at("id").get<std::string>();
    const std::string path = inputs[i].at("path").get<std::string>();
    const auto check = batch::check_completion(out, batch::done_dir(out), id, model_hash, settings_hash);
    measure::ImageRecord rec;
    if (check.complete) {
      rec.info = measure::info_from_json(check.record.result.at("info"));
      rec.summary = measure::summary_from_json(check.record.result.at("summary"));
      nuclei.append(io::read_csv(batch::join(out, batch::fragment_rel(id))));
      records.push_back(std::move(rec));
      continue;
    }
    const auto fp = batch::failure_path(out, id);
    if (stdfs::is_regular_file(fp, ec)) {
      const json f = batch::read_json_file(fp);
      rec.info = measure::info_from_json(f.value("info", json::object()));
      rec.info.image_number = static_cast<int>(i + 1);
      rec.error = f.value("error", std::string("unknown error"));
      failures.add_row({std::to_string(i + 1), rec.info.file_name, path, rec.error});
      failure_list.push_back({{"image_number", i + 1}, {"input", path}, {"error", rec.error}});
      records.push_back(std::move(rec));
      continue;
    }
    missing.push_back(path + " (" + check.reason + ")");
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 10; ++i) list += "\n  " + missing[i];
    if (missing.size() > 10) list += "\n  … and " + std::to_string(missing.size() - 10) + " more";
    throw InputError("merge: " + std::to_string(missing.size()) + " of " + std::to_string(inputs.size()) +
                     " image(s) in '" + out + "' are not finished (run the missing shards or rerun predict):" + list);
  }
  nuclei.write(batch::join(out, "nuclei.csv"));
  measure::images_table(records).write(batch::join(out, "images.csv"));
  measure::wells_table(records).write(batch::join(out, "wells.csv"));
  failures.write(batch::join(out, "failures.csv"));
  report.images = inputs.size();
  report.failed = failures.rows().size();
  report.nuclei = nuclei.rows().size();
  report.merged = true;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json summary = {{"nucseg_version", kVersion},
                        {"model", run.at("model")},
                        {"config", run.value("config", json::object())},
                        {"settings", run.value("settings", json::object())},
                        {"images", report.images},
                        {"succeeded", report.images - report.failed},
                        {"failed", report.failed},
                        {"nuclei", report.nuclei},
                        {"failures", failure_list},
                        {"ranks", mpi::size()},
                        {"merged_at_unix", std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch()).count()},
                        {"merge_seconds", report.seconds},
                        {"outputs", {"nuclei.csv", "images.csv", "wells.csv", "failures.csv", "report.html", "masks/", "overlays/"}}};
  fs::write_text_atomic(batch::join(out, "summary.json"), summary.dump(2) + "\n");
  log::info("merge: {} image(s), {} nuclei, {} failed -> {}/nuclei.csv, images.csv, wells.csv, summary.json",
            report.images, report.nuclei, report.failed, out);
  if (with_report) write_plate_report(out);
  return report;
}

}  // namespace nucseg
