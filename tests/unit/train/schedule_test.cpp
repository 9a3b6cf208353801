#include "train/schedule.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace nucseg::train {
namespace {

TEST(PlateauScheduler, ReducesAfterPatienceWithoutImprovementAndNotBelowTheFloor) {
  PlateauScheduler s({ScheduleType::plateau, 0.5, 2, 0.2}, /*lower=*/true, 0.0, 1.0);
  EXPECT_FALSE(s.update(1.0));  // first value: the best so far
  EXPECT_FALSE(s.update(1.0));
  EXPECT_FALSE(s.update(1.1));
  EXPECT_TRUE(s.update(1.2)) << "the third epoch without improvement is past patience 2";
  EXPECT_DOUBLE_EQ(s.lr(), 0.5);
  EXPECT_FALSE(s.update(0.9)) << "an improvement resets the count";
  for (int i = 0; i < 6; ++i) s.update(0.95);
  EXPECT_DOUBLE_EQ(s.lr(), 0.2) << "0.5 -> 0.25 -> 0.2 (min_lr)";
}

TEST(PlateauScheduler, NoneKeepsTheRateAndStateRoundTrips) {
  PlateauScheduler none({ScheduleType::none, 0.5, 0, 0.0}, true, 0.0, 0.1);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(none.update(1.0));
  EXPECT_DOUBLE_EQ(none.lr(), 0.1);

  PlateauScheduler a({ScheduleType::plateau, 0.5, 1, 0.0}, false, 0.0, 1.0);
  a.update(0.5);
  a.update(0.4);
  nlohmann::json state;
  a.save(state);
  PlateauScheduler b({ScheduleType::plateau, 0.5, 1, 0.0}, false, 0.0, 1.0);
  b.restore(state, 0.0);
  EXPECT_EQ(a.update(0.3), b.update(0.3));
  EXPECT_DOUBLE_EQ(a.lr(), b.lr());
  EXPECT_DOUBLE_EQ(b.lr(), 0.5);
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovementByMoreThanMinDelta) {
  EarlyStopping e({Monitor::val_iou, 2, 0.01});
  EXPECT_TRUE(e.update(0.5));
  EXPECT_FALSE(e.update(0.505)) << "within min_delta";
  EXPECT_FALSE(e.should_stop());
  EXPECT_FALSE(e.update(0.4));
  EXPECT_TRUE(e.should_stop());
  EXPECT_DOUBLE_EQ(e.best(), 0.5);
  nlohmann::json state;
  e.save(state);
  EXPECT_EQ(state["monitor"], "val_iou");
  EarlyStopping r({Monitor::val_iou, 2, 0.01});
  r.restore(state);
  EXPECT_TRUE(r.should_stop());
  EXPECT_TRUE(r.update(0.6));
  EXPECT_FALSE(r.should_stop());
}

TEST(EarlyStopping, PatienceZeroNeverStopsAndUnknownMonitorsAreRefused) {
  EarlyStopping e({Monitor::val_loss, 0, 0.0});
  for (int i = 0; i < 10; ++i) e.update(1.0 + i);
  EXPECT_FALSE(e.should_stop());
  nlohmann::json state;
  EarlyStopping fresh({Monitor::val_loss, 0, 0.0});
  fresh.save(state);
  EXPECT_TRUE(state["best_value"].is_null()) << "no best yet: JSON has no infinity";
}

}  // namespace
}  // namespace nucseg::train
