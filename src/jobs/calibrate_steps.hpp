// The two ways calibrate computes new routers (internal to jobs/): data-free, and with the
// calibration tokens (calibrate_data.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "jobs/data.hpp"
#include "jobs/jobs.hpp"
#include "model/model.hpp"

namespace moerecal::jobs {

// The "calibration" object of a changelog entry (the data file and its figures).
nlohmann::json calibration_json(const DataRequest& req, const Data& d);

// calibrate --data: fills `calibration` and `selection` (the moves' strength, their KL and
// maxvio on the calibration tokens, the trade-off explored).
std::vector<recal::LayerOutcome> calibrate_with_data(const CalibrateRequest& r,
                                                     const model::MoeModel& m,
                                                     const std::vector<int>& layers,
                                                     const Context& ctx, linalg::Backend& be,
                                                     nlohmann::json& calibration,
                                                     nlohmann::json& selection);

}  // namespace moerecal::jobs
