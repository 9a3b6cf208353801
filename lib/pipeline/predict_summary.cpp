#include <cstdint>
#include <vector>

#include "batch/completion.hpp"
#include "batch/output_layout.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/mpi.hpp"
#include "pipeline/predict_run.hpp"

namespace nucseg::predict_run {
using nlohmann::json;
using batch::join;

namespace {

/// summary.json's stage figures: busy seconds per stage (summed over threads and ranks),
/// megapixels per second, end to end and per busy second of each stage, and how full the
/// network's batches were.
json stage_figures(const std::vector<double>& sums, double wall_seconds) {
  const double megapixels = sums[4];
  const auto rate = [&](double seconds) { return seconds > 0 ? megapixels / seconds : 0.0; };
  json f;
  f["stage_seconds"] = {{"network", sums[0]}, {"postprocess_measure", sums[1]}, {"read", sums[2]}, {"write", sums[3]}};
  f["megapixels_per_second"] = {{"end_to_end", rate(wall_seconds)}, {"network", rate(sums[0])},
                                {"postprocess_measure", rate(sums[1])}, {"read", rate(sums[2])}, {"write", rate(sums[3])}};
  f["megapixels_segmented"] = megapixels;
  f["network_tiles_per_forward"] = sums[6] > 0 ? sums[5] / sums[6] : 0.0;
  return f;
}

}  // namespace

void log_run(const Run& r, const PredictReport& report, const infer::StageSeconds& s, std::size_t smoothed) {
  log::info("predict: {} segmented, {} skipped, {} failed here; {:.2f} MP in {:.1f} s (network {:.1f} s, "
            "post-processing + measurement {:.1f} s)",
            report.processed, report.skipped, report.failed, report.megapixels, report.seconds, s.network,
            s.postprocess + s.measure);
  log::info("predict: {:.2f} MP/s end to end; busy seconds (stages overlap): reading {:.1f} on {} thread(s), network "
            "{:.1f} in {} pass(es) over {:.1f} MP ({:.1f} tiles per forward, batch size {}), post-processing {:.1f} + "
            "measurement {:.1f} on {} thread(s), writing {:.1f}",
            report.seconds > 0 ? report.megapixels / report.seconds : 0.0, s.read, r.stage_threads.read, s.network,
            s.network_passes, s.network_megapixels,
            s.forward_batches > 0 ? static_cast<double>(s.forward_tiles) / s.forward_batches : 0.0, r.inf.batch_size(),
            s.postprocess, s.measure, r.stage_threads.post, s.write);
  if (smoothed > 0)
    log::info("predict: {} of {} image(s) smoothed before segmentation (--denoise {}{}; sigma and measured noise in each "
              "image's record under .nucseg/done)",
              smoothed, report.processed, r.o.denoise().text(),
              r.o.denoise().kind == Denoise::Kind::automatic ? format(": noise above {}", kDenoiseNoise) : std::string());
}

void merge_when_done(const Run& r, PredictReport& report, const infer::StageSeconds& s, Clock::time_point t0) {
  std::vector<std::int64_t> counts{static_cast<std::int64_t>(report.processed), static_cast<std::int64_t>(report.skipped)};
  mpi::allreduce_sum(counts);  // also waits for every rank to finish its images
  std::vector<double> sums{s.network, s.postprocess + s.measure, s.read, s.write, report.megapixels,
                           static_cast<double>(s.forward_tiles), static_cast<double>(s.forward_batches)};
  mpi::allreduce_sum(sums);
  if (mpi::rank() == 0) {
    const auto merged = merge_predictions(r.o.out(), false);
    const auto summary_path = join(r.o.out(), "summary.json");
    json summary = batch::read_json_file(summary_path);
    summary["wall_seconds"] = seconds_since(t0);
    summary["segmented_in_this_run"] = counts[0];
    summary["reused_from_earlier_runs"] = counts[1];
    summary.update(stage_figures(sums, summary["wall_seconds"].get<double>()));
    fs::write_text_atomic(summary_path, summary.dump(2) + "\n");
    write_plate_report(r.o.out());
    report.failed = merged.failed;
    report.nuclei = merged.nuclei;
    report.merged = true;
  }
  std::vector<std::int64_t> failed{static_cast<std::int64_t>(report.merged ? report.failed : 0)};
  mpi::allreduce_sum(failed);
  report.failed = static_cast<std::size_t>(failed[0]);
}

}  // namespace nucseg::predict_run
