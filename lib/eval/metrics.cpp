#include "eval/metrics.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "common/error.hpp"

namespace nucseg::eval {
namespace {

/// num / den, with 0/0 = `empty_value`.
double ratio(double num, double den, double empty_value) {
  return den > 0 ? num / den : empty_value;
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

}  // namespace

const std::vector<double>& dsb_thresholds() {
  static const std::vector<double> t = [] {
    std::vector<double> v;
    for (int k = 0; k < 10; ++k) v.push_back(0.5 + 0.05 * k);
    return v;
  }();
  return t;
}

Overlaps compute_overlaps(const LabelImage& truth, const LabelImage& pred) {
  if (truth.height != pred.height || truth.width != pred.width ||
      truth.labels.size() != pred.labels.size()) {
    throw InputError("cannot compare '" + pred.source + "' with '" + truth.source +
                     "': prediction is " + std::to_string(pred.width) + "x" +
                     std::to_string(pred.height) + ", truth " + std::to_string(truth.width) +
                     "x" + std::to_string(truth.height));
  }
  std::map<std::uint32_t, std::uint64_t> ta, pa;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> inter;
  for (std::size_t i = 0; i < truth.labels.size(); ++i) {
    const auto t = truth.labels[i], p = pred.labels[i];
    if (t) ++ta[t];
    if (p) ++pa[p];
    if (t && p) ++inter[{t, p}];
  }
  Overlaps o;
  std::unordered_map<std::uint32_t, std::uint32_t> ti, pi;
  for (const auto& [l, a] : ta) {
    ti[l] = static_cast<std::uint32_t>(o.true_labels.size());
    o.true_labels.push_back(l);
    o.true_area.push_back(a);
  }
  for (const auto& [l, a] : pa) {
    pi[l] = static_cast<std::uint32_t>(o.pred_labels.size());
    o.pred_labels.push_back(l);
    o.pred_area.push_back(a);
  }
  for (const auto& [key, n] : inter) {
    const auto t = ti[key.first], p = pi[key.second];
    const double uni = static_cast<double>(o.true_area[t] + o.pred_area[p] - n);
    o.pairs.push_back({t, p, n, static_cast<double>(n) / uni});
  }
  return o;
}

std::vector<Match> match_instances(const Overlaps& o, double threshold) {
  std::vector<const Overlaps::Pair*> candidates;
  for (const auto& pair : o.pairs) if (pair.iou > threshold) candidates.push_back(&pair);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Overlaps::Pair* a, const Overlaps::Pair* b) { return a->iou > b->iou; });
  std::vector<char> t_used(o.true_labels.size(), 0), p_used(o.pred_labels.size(), 0);
  std::vector<Match> out;
  for (const auto* c : candidates) {
    if (t_used[c->t] || p_used[c->p]) continue;
    t_used[c->t] = p_used[c->p] = 1;
    out.push_back({o.true_labels[c->t], o.pred_labels[c->p], c->iou});
  }
  std::sort(out.begin(), out.end(),
            [](const Match& a, const Match& b) { return a.true_label < b.true_label; });
  return out;
}

ThresholdScore threshold_score(double threshold, std::size_t tp, std::size_t fp, std::size_t fn) {
  ThresholdScore s;
  s.threshold = threshold;
  s.tp = tp;
  s.fp = fp;
  s.fn = fn;
  const double empty = (tp + fp + fn) == 0 ? 1.0 : 0.0;
  const double dtp = static_cast<double>(tp);
  s.ap = ratio(dtp, static_cast<double>(tp + fp + fn), empty);
  s.precision = ratio(dtp, static_cast<double>(tp + fp), empty);
  s.recall = ratio(dtp, static_cast<double>(tp + fn), empty);
  s.f1 = ratio(2 * dtp, static_cast<double>(2 * tp + fp + fn), empty);
  return s;
}

double PixelScore::accuracy() const {
  return ratio(static_cast<double>(tp + tn), static_cast<double>(tp + tn + fp + fn), 1.0);
}
double PixelScore::iou() const {
  return ratio(static_cast<double>(tp), static_cast<double>(tp + fp + fn), 1.0);
}
double PixelScore::dice() const {
  return ratio(2.0 * tp, static_cast<double>(2 * tp + fp + fn), 1.0);
}

ImageScore score_image(const LabelImage& truth, const LabelImage& pred,
                       const std::vector<double>& thresholds) {
  const Overlaps o = compute_overlaps(truth, pred);
  ImageScore s;
  s.name = pred.source;
  s.n_true = o.true_labels.size();
  s.n_pred = o.pred_labels.size();
  for (const double t : thresholds) {
    const std::size_t tp = match_instances(o, t).size();
    s.thresholds.push_back(threshold_score(t, tp, s.n_pred - tp, s.n_true - tp));
  }
  std::vector<double> aps;
  for (const auto& t : s.thresholds) aps.push_back(t.ap);
  s.dsb_score = mean(aps);
  for (std::size_t i = 0; i < truth.labels.size(); ++i) {
    const bool t = truth.labels[i] != 0, p = pred.labels[i] != 0;
    if (t && p) ++s.pixels.tp;
    else if (p) ++s.pixels.fp;
    else if (t) ++s.pixels.fn;
    else ++s.pixels.tn;
  }
  return s;
}

OverallScore aggregate(const std::vector<ImageScore>& images) {
  OverallScore o;
  o.images = images.size();
  if (images.empty()) return o;
  for (const auto& t : images.front().thresholds) o.thresholds.push_back(t.threshold);
  const std::size_t k = o.thresholds.size();
  std::vector<std::size_t> tp(k, 0), fp(k, 0), fn(k, 0);
  std::vector<std::vector<double>> ap(k), pr(k), re(k), f1(k);
  std::vector<double> dsb, acc, iou, dice;
  for (const auto& im : images) {
    if (im.thresholds.size() != k) throw Error("cannot aggregate scores taken at different thresholds");
    for (std::size_t j = 0; j < k; ++j) {
      const auto& t = im.thresholds[j];
      if (t.threshold != o.thresholds[j]) throw Error("cannot aggregate scores taken at different thresholds");
      tp[j] += t.tp;
      fp[j] += t.fp;
      fn[j] += t.fn;
      ap[j].push_back(t.ap);
      pr[j].push_back(t.precision);
      re[j].push_back(t.recall);
      f1[j].push_back(t.f1);
    }
    dsb.push_back(im.dsb_score);
    acc.push_back(im.pixels.accuracy());
    iou.push_back(im.pixels.iou());
    dice.push_back(im.pixels.dice());
    o.pooled_pixels.tp += im.pixels.tp;
    o.pooled_pixels.fp += im.pixels.fp;
    o.pooled_pixels.fn += im.pixels.fn;
    o.pooled_pixels.tn += im.pixels.tn;
  }
  for (std::size_t j = 0; j < k; ++j) {
    o.mean_ap.push_back(mean(ap[j]));
    o.mean_precision.push_back(mean(pr[j]));
    o.mean_recall.push_back(mean(re[j]));
    o.mean_f1.push_back(mean(f1[j]));
    o.pooled.push_back(threshold_score(o.thresholds[j], tp[j], fp[j], fn[j]));
  }
  o.dsb_score = mean(dsb);
  o.mean_pixel_accuracy = mean(acc);
  o.mean_pixel_iou = mean(iou);
  o.mean_pixel_dice = mean(dice);
  return o;
}

}  // namespace nucseg::eval
