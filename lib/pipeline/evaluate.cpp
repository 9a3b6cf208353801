#include "pipeline/evaluate.hpp"

#include <itkMultiThreaderBase.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "batch/image_files.hpp"
#include "batch/input_list.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/signals.hpp"
#include "common/version.hpp"
#include "eval/panel.hpp"
#include "io/image_reader.hpp"
#include "io/itk_setup.hpp"
#include "io/labels.hpp"
#include "io/csv.hpp"
#include "io/image_writer.hpp"

namespace nucseg {
namespace stdfs = std::filesystem;
using nlohmann::json;

const settings::Table<EvaluateOptions>& EvaluateOptions::settings() {
  static const auto table = [] {
    using O = EvaluateOptions;
    settings::Table<O> t("evaluate",
                         "Configuration of 'nucseg evaluate'. Every key is optional in a file; flags override keys; "
                         "unknown keys are refused.",
                         O("", "", ""));
    t.add("pred", &O::pred_,
          "Folder of predicted label images, searched recursively (a nucseg predict output folder means its masks/), "
          "matched to the truth by file stem; suffixes _labels, _label, _masks, _mask, _pred, _prediction are ignored.")
        .non_empty().flag("--pred,-p");
    t.add("truth", &O::truth_,
          "Ground truth: a DSB-layout root (<id>/masks/*.png, one mask per nucleus) or a folder of label images "
          "(binary masks are split into connected components).")
        .non_empty().flag("--truth,-t");
    t.add("images", &O::images_,
          "Folder of input images for the panels, matched by stem (a DSB-layout truth provides its own).")
        .nullable().flag("--images,-i");
    t.add("out", &O::out_, "Output folder for evaluation.csv, evaluation.json and panels/.").non_empty().flag("--out,-o");
    t.add("panels", &O::panels_,
          "Write comparison panels (input | truth | prediction) for this many images, the lowest DSB scores first.")
        .range(0, 100000);
    t.add("threads", &O::threads_, "Worker threads; 0 = all cores.").range(0, 1024).flag("--threads,-j");
    return t;
  }();
  return table;
}

EvaluateOptions EvaluateOptions::from_json(const json& c) {
  EvaluateOptions o("", "", "");
  settings().read_checked(c, o);
  if (o.pred().empty()) throw ConfigError("evaluate: no predictions: set --pred or 'pred'");
  if (o.truth().empty()) throw ConfigError("evaluate: no ground truth: set --truth or 'truth'");
  if (o.out().empty()) throw ConfigError("evaluate: no output folder: set --out or 'out'");
  return o;
}

json EvaluateOptions::to_json() const { return settings().write(*this); }

std::string pairing_stem(const std::string& path) {
  std::string stem = batch::image_stem(path);
  for (const char* suffix : {"_labels", "_label", "_masks", "_mask", "_prediction", "_pred"}) {
    const std::string s(suffix);
    if (stem.size() > s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0) {
      stem.resize(stem.size() - s.size());
      break;
    }
  }
  return stem;
}

namespace {

using batch::image_files;

/// Image files anywhere below `dir` (predict mirrors the input tree in masks/), hidden
/// entries skipped.
std::vector<std::string> image_files_recursive(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& item : batch::list_folder(dir)) out.push_back(item.path);
  return out;
}

void require_dir(const std::string& dir, const char* what) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec))
    throw InputError(std::string("cannot read ") + what + " folder '" + dir + "': not a directory");
}

/// stem -> path; two files with one stem are an error.
std::map<std::string, std::string> by_stem(const std::vector<std::string>& files, const char* what) {
  std::map<std::string, std::string> out;
  for (const auto& f : files) {
    const auto [it, inserted] = out.emplace(pairing_stem(f), f);
    if (!inserted)
      throw InputError(std::string("cannot pair ") + what + " files: '" + it->second + "' and '" +
                       f + "' have the same name stem '" + it->first + "'");
  }
  return out;
}

json threshold_map(const std::vector<double>& thresholds, const std::vector<double>& values) {
  json m = json::object();
  for (std::size_t i = 0; i < thresholds.size(); ++i) m[io::format_fixed(thresholds[i], 2)] = values[i];
  return m;
}

/// The folder of predicted label images: `pred`, or the masks/ (labels/) of a predict output.
stdfs::path prediction_folder(const std::string& pred) {
  stdfs::path dir(pred);
  for (const char* sub : {"masks", "labels"}) {
    if (image_files(dir).empty() && stdfs::is_directory(dir / sub)) return dir / sub;
  }
  return dir;
}

/// The ground truth by sample name: DSB sample folders (masks/ listed when read, the image
/// from images/), or label images by pairing stem.
std::map<std::string, EvaluatePair> truth_by_name(const std::string& truth_root) {
  std::map<std::string, EvaluatePair> truth;
  if (batch::holds_sample_folders(truth_root, "masks")) {
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(truth_root, ec)) {
      if (!e.is_directory() || !stdfs::is_directory(e.path() / "masks")) continue;
      EvaluatePair p;
      p.name = e.path().filename().string();
      p.truth_masks.push_back((e.path() / "masks").string());
      const auto imgs = image_files(e.path() / "images");
      if (!imgs.empty()) p.image_path = imgs.front();
      truth.emplace(p.name, std::move(p));
    }
    return truth;
  }
  for (const auto& [stem, path] : by_stem(image_files(truth_root), "ground-truth")) {
    EvaluatePair p;
    p.name = stem;
    p.truth_path = path;
    truth.emplace(stem, std::move(p));
  }
  return truth;
}

}  // namespace

std::vector<EvaluatePair> discover_pairs(const EvaluateOptions& o, std::size_t& truth_only,
                                         std::size_t& pred_only) {
  require_dir(o.pred(), "prediction");
  require_dir(o.truth(), "ground-truth");
  const stdfs::path pred_dir = prediction_folder(o.pred());
  // Searched recursively: predict mirrors the input tree in masks/.
  auto pred_files = image_files_recursive(pred_dir);
  if (pred_files.empty())
    throw InputError("no predicted label images in '" + o.pred() + "' (nor in its labels/ or masks/)");
  const auto preds = by_stem(pred_files, "prediction");
  const auto truth = truth_by_name(o.truth());
  std::map<std::string, std::string> inputs;
  if (!o.images().empty()) {
    require_dir(o.images(), "image");
    inputs = by_stem(image_files(o.images()), "input image");
  }
  std::vector<EvaluatePair> pairs;
  truth_only = 0;
  pred_only = 0;
  for (const auto& [stem, path] : preds) {
    auto it = truth.find(stem);
    if (it == truth.end()) {
      ++pred_only;
      log::warn("evaluate: prediction '{}' has no ground truth named '{}'; ignored", path, stem);
      continue;
    }
    EvaluatePair p = it->second;
    p.pred_path = path;
    if (const auto in = inputs.find(stem); in != inputs.end()) p.image_path = in->second;
    pairs.push_back(std::move(p));
  }
  truth_only = truth.size() - pairs.size();
  if (pairs.empty()) {
    throw InputError("no prediction in '" + pred_dir.string() + "' matches a ground truth in '" +
                     o.truth() + "' by name (e.g. prediction stem '" + preds.begin()->first + "'" +
                     (truth.empty() ? std::string(", no truth found") : ", truth stem '" + truth.begin()->first + "'") + ")");
  }
  return pairs;
}

namespace {

LabelImage read_truth(const EvaluatePair& p) {
  if (p.truth_masks.empty()) return io::read_mask_as_instances(p.truth_path);
  const auto masks = image_files(p.truth_masks.front());
  if (masks.empty()) throw InputError("ground truth '" + p.truth_masks.front() + "' holds no mask files");
  const auto [height, width] = io::read_size(masks.front());
  LabelImage truth = io::merge_instance_masks(masks, height, width);
  truth.source = p.truth_masks.front();
  return truth;
}

}  // namespace

std::string evaluation_csv(const std::vector<eval::ImageScore>& images) {
  std::vector<std::string> cols = {"Image", "TruthCount", "PredCount", "PixelAccuracy",
                                   "PixelIoU", "PixelDice", "DSBScore"};
  std::vector<double> ts;
  for (const auto& t : images.empty() ? std::vector<eval::ThresholdScore>{} : images.front().thresholds)
    ts.push_back(t.threshold);
  if (images.empty()) ts = eval::dsb_thresholds();
  for (const double t : ts) {
    const std::string s = io::format_fixed(t, 2);
    for (const char* name : {"TP_", "FP_", "FN_", "AP_", "Precision_", "Recall_", "F1_"})
      cols.push_back(name + s);
  }
  io::CsvTable table(cols);
  for (const auto& im : images) {
    std::vector<std::string> row = {im.name, std::to_string(im.n_true), std::to_string(im.n_pred),
                                    io::format_fixed(im.pixels.accuracy(), 6),
                                    io::format_fixed(im.pixels.iou(), 6),
                                    io::format_fixed(im.pixels.dice(), 6),
                                    io::format_fixed(im.dsb_score, 6)};
    for (const auto& t : im.thresholds) {
      row.push_back(std::to_string(t.tp));
      row.push_back(std::to_string(t.fp));
      row.push_back(std::to_string(t.fn));
      for (const double v : {t.ap, t.precision, t.recall, t.f1}) row.push_back(io::format_fixed(v, 6));
    }
    table.add_row(std::move(row));
  }
  return table.to_string();
}

json evaluation_json(const eval::OverallScore& o) {
  std::vector<double> pooled_ap, tp, fp, fn;
  for (const auto& t : o.pooled) {
    pooled_ap.push_back(t.ap);
    tp.push_back(static_cast<double>(t.tp));
    fp.push_back(static_cast<double>(t.fp));
    fn.push_back(static_cast<double>(t.fn));
  }
  const double ap50 = o.mean_ap.empty() ? 0.0 : o.mean_ap.front();
  return json{
      {"images", o.images},
      {"summary",
       {{"dsb_score", o.dsb_score},
        {"ap_0.50", ap50},
        {"pixel_accuracy", o.mean_pixel_accuracy},
        {"pixel_iou", o.mean_pixel_iou},
        {"pixel_dice", o.mean_pixel_dice}}},
      {"thresholds", o.thresholds},
      {"mean_over_images",
       {{"dsb_score", o.dsb_score},
        {"ap", threshold_map(o.thresholds, o.mean_ap)},
        {"precision", threshold_map(o.thresholds, o.mean_precision)},
        {"recall", threshold_map(o.thresholds, o.mean_recall)},
        {"f1", threshold_map(o.thresholds, o.mean_f1)},
        {"pixel_accuracy", o.mean_pixel_accuracy},
        {"pixel_iou", o.mean_pixel_iou},
        {"pixel_dice", o.mean_pixel_dice}}},
      {"pooled",
       {{"tp", threshold_map(o.thresholds, tp)},
        {"fp", threshold_map(o.thresholds, fp)},
        {"fn", threshold_map(o.thresholds, fn)},
        {"ap", threshold_map(o.thresholds, pooled_ap)},
        {"pixel_accuracy", o.pooled_pixels.accuracy()},
        {"pixel_iou", o.pooled_pixels.iou()},
        {"pixel_dice", o.pooled_pixels.dice()}}}};
}

namespace {

/// Scores every pair on `threads` threads; the first pair that cannot be read ends the run.
std::vector<eval::ImageScore> score_pairs(const std::vector<EvaluatePair>& pairs, int threads,
                                          log::Progress& progress) {
  std::vector<eval::ImageScore> scores(pairs.size());
  std::vector<std::string> errors(pairs.size());
  std::atomic<std::size_t> next{0};
  std::mutex progress_mutex;
  std::size_t done = 0;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= pairs.size() || interrupted()) return;
      try {
        const LabelImage pred = io::read_mask_as_instances(pairs[i].pred_path);
        const LabelImage truth = read_truth(pairs[i]);
        scores[i] = eval::score_image(truth, pred);
        scores[i].name = pairs[i].name;
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress.update(++done);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  throw_if_interrupted("evaluate");
  for (std::size_t i = 0; i < pairs.size(); ++i)
    if (!errors[i].empty()) throw InputError(errors[i]);
  return scores;
}

/// Comparison panels of the `count` pairs with the lowest DSB scores, in out/panels/; their paths.
std::vector<std::string> write_panels(const std::vector<EvaluatePair>& pairs,
                                      const std::vector<eval::ImageScore>& scores, int count, const std::string& out) {
  std::vector<std::size_t> order(pairs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a].dsb_score < scores[b].dsb_score; });
  order.resize(std::min<std::size_t>(order.size(), static_cast<std::size_t>(count)));
  const std::string dir = (stdfs::path(out) / "panels").string();
  fs::ensure_directory(dir);
  std::vector<std::string> paths;
  for (const auto i : order) {
    const LabelImage pred = io::read_mask_as_instances(pairs[i].pred_path);
    const LabelImage truth = read_truth(pairs[i]);
    std::optional<RawImage> input;
    if (!pairs[i].image_path.empty()) input = io::read_image(pairs[i].image_path);
    const std::string path = (stdfs::path(dir) / (pairs[i].name + ".png")).string();
    io::write_rgb_png(eval::render_panel(input ? &*input : nullptr, truth, pred), path);
    paths.push_back(path);
  }
  return paths;
}

/// evaluation.json: the scores with the version, config, unmatched counts and panels.
json report_document(const EvaluateOptions& o, const EvaluateReport& report) {
  json doc = evaluation_json(report.overall);
  doc["nucseg_version"] = kVersion;
  doc["config"] = o.to_json();
  doc["unmatched"] = {{"truth_without_prediction", report.truth_without_prediction},
                      {"prediction_without_truth", report.prediction_without_truth}};
  doc["matching"] = "one-to-one, IoU > t, greedy by decreasing IoU (unique for t >= 0.5)";
  doc["panels"] = report.panel_paths;
  doc["seconds"] = report.seconds;
  return doc;
}

}  // namespace

EvaluateReport run_evaluate(const EvaluateOptions& o) {
  EvaluateReport report;
  const auto pairs = discover_pairs(o, report.truth_without_prediction, report.prediction_without_truth);
  const int threads = std::max(1, std::min<int>(o.threads() > 0 ? o.threads()
                                                                : static_cast<int>(std::thread::hardware_concurrency()),
                                                static_cast<int>(pairs.size())));
  log::info("evaluate: {} image(s) ({} truth without prediction, {} prediction without truth), {} thread(s)",
            pairs.size(), report.truth_without_prediction, report.prediction_without_truth, threads);
  io::register_itk_io();  // ITK's singletons exist before the worker threads start
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);
  fs::ensure_directory(o.out());

  log::Progress progress("evaluate", pairs.size(), "images");
  const auto scores = score_pairs(pairs, threads, progress);
  progress.finish();
  report.images = scores;
  report.overall = eval::aggregate(scores);
  report.csv_path = (stdfs::path(o.out()) / "evaluation.csv").string();
  report.json_path = (stdfs::path(o.out()) / "evaluation.json").string();
  fs::write_text_atomic(report.csv_path, evaluation_csv(scores));
  if (o.panels() > 0) report.panel_paths = write_panels(pairs, scores, o.panels(), o.out());
  report.seconds = progress.elapsed_seconds();
  config::write_file(report_document(o, report), report.json_path);
  log::info("evaluate: {} images, DSB score {:.4f}, AP@0.5 {:.4f}, pixel accuracy {:.4f}, IoU {:.4f}, Dice {:.4f} -> '{}'",
            report.overall.images, report.overall.dsb_score,
            report.overall.mean_ap.empty() ? 0.0 : report.overall.mean_ap.front(),
            report.overall.mean_pixel_accuracy, report.overall.mean_pixel_iou,
            report.overall.mean_pixel_dice, o.out());
  return report;
}

}  // namespace nucseg
