#include <cstdio>
#include <iostream>
#include <memory>

#include "cli_config.hpp"
#include "commands.hpp"
#include "common/error.hpp"
#include "pipeline/evaluate.hpp"

namespace nucseg::tools {

void add_evaluate_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("evaluate",
                                 "Score predicted label images against ground truth (DSB 2018 metric, pixel IoU/Dice)");
  sub->footer(
      "Pairs files by name stem (suffixes _labels/_label/_masks/_mask/_pred/_prediction ignored).\n"
      "Truth: a DSB-layout root (<id>/masks/*.png) or a folder of label images / binary masks.\n"
      "Outputs in --out:\n"
      "  evaluation.csv   per image: counts, PixelAccuracy/IoU/Dice, DSBScore, and for each IoU\n"
      "                   threshold t = 0.50..0.95: TP_t, FP_t, FN_t, AP_t = TP/(TP+FP+FN),\n"
      "                   Precision_t, Recall_t, F1_t\n"
      "  evaluation.json  means over images (the DSB score), pooled counts, provenance\n"
      "  panels/<id>.png  input | truth | prediction; outlines green = matched (IoU > 0.5),\n"
      "                   yellow = missed truth, red = false positive\n"
      "Matching: one-to-one with IoU > t, greedy by IoU (unique for t >= 0.5).\n"
      "Exit codes: 0 ok, 2 bad flags/config, 3 bad input, 4 cannot write.\n"
      "Example:\n"
      "  nucseg evaluate --pred results/labels --truth data/dsb2018_stage1_train --out eval --panels 10");
  auto flags = settings_flags<EvaluateOptions>(sub, "evaluate");
  sub->callback([&run, flags] {
    run = [flags] {
      const auto options = EvaluateOptions::from_json(flags->resolve());
      const auto report = run_evaluate(options);
      const auto& o = report.overall;
      char line[256];
      std::snprintf(line, sizeof line,
                    "evaluated %zu images: DSB score %.4f, AP@0.5 %.4f, pixel accuracy %.4f, IoU %.4f, Dice %.4f\n",
                    o.images, o.dsb_score, o.mean_ap.empty() ? 0.0 : o.mean_ap.front(),
                    o.mean_pixel_accuracy, o.mean_pixel_iou, o.mean_pixel_dice);
      std::cout << line << "wrote " << report.csv_path << " and " << report.json_path;
      if (!report.panel_paths.empty()) std::cout << " and " << report.panel_paths.size() << " panel(s)";
      std::cout << "\n";
      return static_cast<int>(ExitCode::ok);
    };
  });
}

}  // namespace nucseg::tools
