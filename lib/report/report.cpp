#include "report/report.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "report/distributions.hpp"
#include "report/gallery.hpp"
#include "report/html.hpp"
#include "report/plate_map.hpp"
#include "report/results.hpp"

namespace nucseg::report {
namespace {
namespace stdfs = std::filesystem;
using nlohmann::json;

/// Failures listed in the page; the rest are counted and left to failures.csv.
constexpr std::size_t kFailuresShown = 500;

constexpr const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid #ddd;margin-top:28px}
h3{font-size:15px;margin:16px 0 6px}table{border-collapse:collapse}
td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
.kv td:first-child{color:#666}.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;word-break:break-all}svg text{font:10px system-ui,sans-serif}svg text:not([fill]){fill:#333}
.row{display:flex;flex-wrap:wrap;gap:12px}.gallery{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;text-align:center;font-size:12px}figure img{display:block;border:1px solid #ccc;max-width:200px}
.flag{color:#d62728}.muted{color:#777}details{margin:6px 0}
</style>)";

std::string kv_row(const std::string& key, const std::string& value_html) {
  return "<tr><td>" + escape(key) + "</td><td>" + value_html + "</td></tr>";
}

std::string json_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string utc_time(long long unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

/// A flat JSON object (nested keys joined with '.') as table rows inside <details>.
std::string settings_table(const std::string& title, const json& object) {
  std::string rows;
  if (!object.is_object() || object.empty()) return "";
  const json flat = object.flatten();
  for (const auto& item : flat.items())
    if (!item.key().empty()) rows += kv_row(item.key().substr(1), "<code>" + escape(json_text(item.value())) + "</code>");
  return "<details><summary>" + escape(title) + "</summary><table class=\"kv\">" + rows + "</table></details>";
}

std::string provenance_html(const json& s) {
  const json model = s.value("model", json::object());
  std::string rows = kv_row("nucseg", escape(s.value("nucseg_version", std::string("?"))));
  rows += kv_row("model", "<code>" + escape(model.value("path", std::string("?"))) + "</code>");
  rows += kv_row("model SHA-256", "<code>" + escape(model.value("sha256", std::string("?"))) + "</code>");
  if (s.contains("wall_seconds")) rows += kv_row("wall time", duration(s["wall_seconds"].get<double>()));
  const json stages = s.value("stage_seconds", json::object());
  for (const auto& [stage, seconds] : stages.items()) rows += kv_row("stage: " + stage, duration(seconds.get<double>()));
  rows += kv_row("stage: merge", duration(s.value("merge_seconds", 0.0)));
  if (s.contains("merged_at_unix")) rows += kv_row("tables merged", utc_time(s["merged_at_unix"].get<long long>()));
  rows += kv_row("MPI ranks (merge)", std::to_string(s.value("ranks", 1)));
  return "<h2>Provenance</h2><table class=\"kv\">" + rows + "</table>" +
         settings_table("settings that shape the results", s.value("settings", json::object())) +
         settings_table("resolved configuration", s.value("config", json::object()));
}

std::string header_html(const Results& r) {
  const json& s = r.summary;
  const std::string name = stdfs::absolute(r.folder).lexically_normal().filename().string();
  return "<h1>nucseg plate report: " + escape(name.empty() ? r.folder : name) + "</h1><p>" +
         count(s.value("images", 0LL)) + " images, " + count(s.value("succeeded", 0LL)) + " segmented, <span" +
         (s.value("failed", 0LL) > 0 ? " class=\"flag\"" : "") + ">" + count(s.value("failed", 0LL)) +
         " failed</span>, " + count(s.value("nuclei", 0LL)) + " nuclei. Tables: <a href=\"wells.csv\">wells.csv</a>, " +
         "<a href=\"images.csv\">images.csv</a>, <a href=\"nuclei.csv\">nuclei.csv</a>, " +
         "<a href=\"failures.csv\">failures.csv</a>.</p>";
}

std::vector<const WellRow*> wells_of(const Results& r, const std::string& plate) {
  std::vector<const WellRow*> wells;
  for (const auto& w : r.wells)
    if (w.plate == plate) wells.push_back(&w);
  return wells;
}

std::string flagged_list_html(const std::vector<FlaggedWell>& flagged) {
  if (flagged.empty()) return "<p class=\"muted\">No well flagged.</p>";
  std::string rows = "<tr><th>well</th><th>why</th><th class=\"num\">nuclei per site</th><th class=\"num\">failed sites</th></tr>";
  for (const auto& f : flagged) {
    const std::string why = f.outlier ? (f.well->failed_sites ? "outlier count, failed sites" : "outlier count") : "failed sites";
    rows += "<tr class=\"flagged-well\"><td>" + escape(f.well->well) + "</td><td class=\"flag\">" + why +
            "</td><td class=\"num\">" + number(f.well->mean_per_site, 1) + "</td><td class=\"num\">" +
            std::to_string(f.well->failed_sites) + "</td></tr>";
  }
  return "<table>" + rows + "</table>";
}

/// Heatmap and flagged wells of each plate; fills `flagged` with every plate's flagged wells.
std::string plates_html(const Results& r, WellSet& flagged) {
  std::string s = "<h2>Plates</h2>" + viridis_defs_svg();
  for (const auto& plate : plates_of(r)) {
    s += "<section class=\"plate\" data-plate=\"" + escape(plate) + "\"><h3>" + escape(plate.empty() ? "(no plate)" : plate) + "</h3>";
    const auto wells = wells_of(r, plate);
    if (wells.empty()) {
      std::vector<const ImageRow*> images;
      for (const auto& i : r.images)
        if (i.plate == plate) images.push_back(&i);
      s += "<p class=\"muted\">No well metadata: one cell per image, in input order.</p>" + image_grid_svg(images);
    } else {
      const auto flags = flagged_wells(wells);
      for (const auto& f : flags) flagged.insert({plate, f.well->well});
      s += well_heatmap_svg(plate, wells) + flagged_list_html(flags);
    }
    s += "</section>";
  }
  return s;
}

std::string distributions_html(const Results& r, const WellSet& flagged) {
  const auto values = read_nucleus_values((stdfs::path(r.folder) / "nuclei.csv").string(), flagged);
  std::string s = "<h2>Distributions</h2><p class=\"muted\">Bars: every nucleus of the plate (0.5th–99.5th "
                  "percentile). <span class=\"flag\">Red line</span>: the nuclei of its flagged wells.</p>";
  for (const auto& [plate, v] : values) {
    s += "<h3>" + escape(plate.empty() ? "(no plate)" : plate) + "</h3><div class=\"row\">";
    for (std::size_t m = 0; m < kMetrics.size(); ++m) {
      const auto range = display_range(v.all[m]);
      s += histogram_svg(kMetrics[m], histogram(v.all[m], range), histogram(v.flagged[m], range));
    }
    s += "</div>";
  }
  return s;
}

std::string failures_html(const std::vector<FailureRow>& failures) {
  std::string s = "<h2>Failures</h2>";
  if (failures.empty()) return s + "<p class=\"muted\">None.</p>";
  s += "<table class=\"failures\"><tr><th>image</th><th>file</th><th>reason</th></tr>";
  for (std::size_t k = 0; k < failures.size() && k < kFailuresShown; ++k)
    s += "<tr class=\"failure\"><td class=\"num\">" + std::to_string(failures[k].number) + "</td><td><code>" +
         escape(failures[k].input) + "</code></td><td>" + escape(failures[k].error) + "</td></tr>";
  s += "</table>";
  if (failures.size() > kFailuresShown)
    s += "<p>… and " + count(static_cast<long long>(failures.size() - kFailuresShown)) +
         " more in <a href=\"failures.csv\">failures.csv</a>.</p>";
  return s;
}

}  // namespace

std::string build_report(const std::string& folder, std::size_t* thumbnails) {
  const Results r = load_results(folder);
  WellSet flagged;
  const std::string plates = plates_html(r, flagged);
  const auto groups = pick_gallery(r.images);
  if (thumbnails) {
    *thumbnails = 0;
    for (const auto& g : groups) *thumbnails += g.images.size();
  }
  return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nucseg report</title>" +
         std::string(kStyle) + "</head><body>" + header_html(r) + provenance_html(r.summary) + plates +
         distributions_html(r, flagged) + "<h2>QC gallery</h2><p class=\"muted\">Overlays of the segmented images "
         "(outlines in yellow); click a thumbnail for the full overlay.</p>" + gallery_html(folder, groups) +
         failures_html(r.failures) + "</body></html>\n";
}

ReportSummary write_report(const std::string& folder) {
  const auto t0 = std::chrono::steady_clock::now();
  ReportSummary summary;
  summary.path = (stdfs::path(folder) / "report.html").string();
  const std::string page = build_report(folder, &summary.thumbnails);
  fs::write_text_atomic(summary.path, page);
  summary.bytes = page.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info("report: {} ({:.1f} MB, {} thumbnails) in {:.2f} s", summary.path, summary.bytes / 1e6,
            summary.thumbnails, summary.seconds);
  return summary;
}

}  // namespace nucseg::report
