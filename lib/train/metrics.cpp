#include <locale>
#include <sstream>

#include "train/plot.hpp"
#include "train/trainer.hpp"
#include "train/trainer_metrics.hpp"

namespace nucseg::train {
using nlohmann::json;

json EpochMetrics::to_json() const {
  return {{"epoch", epoch}, {"lr", lr}, {"train_loss", train_loss}, {"train_accuracy", train_accuracy},
          {"train_iou", train_iou}, {"train_dice", train_dice}, {"val_loss", val_loss},
          {"val_accuracy", val_accuracy}, {"val_iou", val_iou}, {"val_dice", val_dice},
          {"seconds", seconds}, {"images_per_s", images_per_second}, {"data_wait", data_wait}};
}

EpochMetrics EpochMetrics::from_json(const json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch");
  m.lr = j.at("lr");
  m.train_loss = j.at("train_loss");
  m.train_accuracy = j.at("train_accuracy");
  m.train_iou = j.at("train_iou");
  m.train_dice = j.at("train_dice");
  m.val_loss = j.at("val_loss");
  m.val_accuracy = j.at("val_accuracy");
  m.val_iou = j.at("val_iou");
  m.val_dice = j.at("val_dice");
  m.seconds = j.at("seconds");
  m.images_per_second = j.value("images_per_s", 0.0);  // absent from checkpoints before it existed
  m.data_wait = j.value("data_wait", 0.0);
  return m;
}

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << "epoch,lr,train_loss,train_accuracy,train_iou,train_dice,val_loss,val_accuracy,val_iou,val_dice,seconds,"
       "images_per_s,data_wait\n";
  s.precision(6);
  for (const auto& m : history) {
    s << m.epoch << ',' << m.lr << ',' << m.train_loss << ',' << m.train_accuracy << ',' << m.train_iou << ','
      << m.train_dice << ',' << m.val_loss << ',' << m.val_accuracy << ',' << m.val_iou << ',' << m.val_dice << ','
      << m.seconds << ',' << m.images_per_second << ',' << m.data_wait << '\n';
  }
  return s.str();
}

std::string curves_svg(const std::vector<EpochMetrics>& h) {
  auto col = [&](double EpochMetrics::*f) {
    std::vector<double> v;
    for (const auto& m : h) v.push_back(m.*f);
    return v;
  };
  return svg_chart({{"loss", {{"train", "#1f77b4", col(&EpochMetrics::train_loss)},
                              {"validation", "#d62728", col(&EpochMetrics::val_loss)}}},
                    {"validation metrics", {{"pixel accuracy", "#2ca02c", col(&EpochMetrics::val_accuracy)},
                                            {"IoU", "#ff7f0e", col(&EpochMetrics::val_iou)},
                                            {"Dice", "#9467bd", col(&EpochMetrics::val_dice)}}}});
}

double monitored(const EpochMetrics& m, Monitor monitor) {
  switch (monitor) {
    case Monitor::val_loss: return m.val_loss;
    case Monitor::val_iou: return m.val_iou;
    case Monitor::val_dice: return m.val_dice;
    case Monitor::val_accuracy: return m.val_accuracy;
  }
  return 0;
}

}  // namespace nucseg::train
