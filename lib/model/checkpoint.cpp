#include "model/checkpoint.hpp"

#include <filesystem>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/version.hpp"

namespace nucseg::model {

namespace {

/// A model of `source`'s options whose floating-point parameters and buffers are `dtype`
/// copies of the source's (on the CPU); other buffers are copied as they are.
UNet copy_as(UNet& source, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  UNet copy(source->options());
  const auto params = source->named_parameters();
  const auto buffers = source->named_buffers();
  const auto convert = [dtype](torch::Tensor& to, const torch::Tensor& from) {
    auto t = from.detach().to(torch::kCPU).contiguous();
    to.set_data(t.is_floating_point() ? t.to(dtype) : t.clone());
  };
  for (auto& p : copy->named_parameters()) convert(p.value(), params[p.key()]);
  for (auto& b : copy->named_buffers()) convert(b.value(), buffers[b.key()]);
  return copy;
}

/// Copies the values of `from`'s parameters and buffers into `to`'s, converting the dtype.
void copy_values(UNet& from, UNet& to) {
  torch::NoGradGuard no_grad;
  const auto params = from->named_parameters();
  const auto buffers = from->named_buffers();
  for (auto& p : to->named_parameters()) p.value().copy_(params[p.key()]);
  for (auto& b : to->named_buffers()) b.value().copy_(buffers[b.key()]);
}

}  // namespace

void save_checkpoint(const std::string& path, UNet& model, torch::optim::Optimizer* optimizer,
                     nlohmann::json meta, WeightStorage storage) {
  meta["model"] = model->options().to_json();
  meta["weights"] = storage == WeightStorage::fp16 ? "fp16" : "fp32";
  meta["format"] = "nucseg-checkpoint";
  meta["format_version"] = 1;
  if (!meta.contains("nucseg_version")) meta["nucseg_version"] = kVersion;
  // Serialized in memory and written by nucseg: torch's own file writer throws from its
  // destructor when a write fails (full disk), which ends the process.
  std::string bytes;
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive weights;
    if (storage == WeightStorage::fp16) {
      auto half = copy_as(model, torch::kHalf);
      for (const auto& p : half->parameters())
        if (!torch::isfinite(p).all().item<bool>())
          throw OutputError("cannot write checkpoint '" + path + "' with fp16 weights: a weight lies outside fp16's range");
      half->save(weights);
    } else {
      model->save(weights);
    }
    archive.write("model", weights);
    if (optimizer) {
      torch::serialize::OutputArchive opt;
      optimizer->save(opt);
      archive.write("optimizer", opt);
    }
    archive.write("meta", c10::IValue(meta.dump()));
    archive.save_to([&bytes](const void* data, std::size_t size) {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const c10::Error& e) {
    throw OutputError("cannot write checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  fs::write_text_atomic(path, bytes);
}

namespace {

nlohmann::json read_meta(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read("meta", value) || !value.isString()) {
    throw InputError("cannot use '" + path + "': not a nucseg checkpoint (no metadata)");
  }
  try {
    auto meta = nlohmann::json::parse(value.toStringRef());
    if (meta.value("format", "") != "nucseg-checkpoint") throw std::runtime_error("format");
    return meta;
  } catch (const std::exception&) {
    throw InputError("cannot use '" + path + "': checkpoint metadata is not valid");
  }
}

void load_archive(torch::serialize::InputArchive& archive, const std::string& path,
                  const std::string& device) {
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError("cannot read checkpoint '" + path + "': no such file");
  }
  try {
    archive.load_from(path, torch::Device(device));
  } catch (const c10::Error& e) {
    throw InputError("cannot read checkpoint '" + path + "': not a checkpoint file or corrupt (" +
                     e.what_without_backtrace() + ")");
  }
}

}  // namespace

std::optional<image::Preprocessing> training_preprocessing(const nlohmann::json& meta, const std::string& path) {
  const auto data = meta.find("data");
  if (data == meta.end() || !data->is_object()) return std::nullopt;
  try {
    if (const auto record = data->find("preprocessing"); record != data->end())
      return image::Preprocessing::from_json(*record);
    const nlohmann::json config = data->value("convert_config", nlohmann::json());
    const nlohmann::json normalization = data->value("normalization", nlohmann::json());
    if (config.is_null() && normalization.is_null()) return std::nullopt;
    return image::Preprocessing::from_old_documents(config, normalization);
  } catch (const ConfigError& e) {
    throw InputError("cannot use '" + path + "': " + e.what());
  }
}

nlohmann::json read_checkpoint_meta(const std::string& path) {
  torch::serialize::InputArchive archive;
  load_archive(archive, path, "cpu");
  return read_meta(archive, path);
}

namespace {

void check_options(const UNetOptions& found, const UNetOptions& expected, const std::string& path) {
  if (found == expected) return;
  std::string diff;
  const auto a = found.to_json(), b = expected.to_json();
  for (const auto& [k, v] : b.items()) {
    if (a.value(k, nlohmann::json()) != v) {
      diff += (diff.empty() ? "" : ", ") + k + " " + a.value(k, nlohmann::json()).dump() +
              " in the checkpoint vs " + v.dump() + " configured";
    }
  }
  throw InputError("cannot use '" + path + "': it holds another model shape (" + diff + ")");
}

UNetOptions options_of(const nlohmann::json& meta, const std::string& path) {
  try {
    return UNetOptions::from_json(meta.at("model"));
  } catch (const std::exception& e) {
    throw InputError("cannot use '" + path + "': model options in the checkpoint are invalid: " + e.what());
  }
}

void load_state(torch::serialize::InputArchive& archive, const nlohmann::json& meta, UNet& model,
                torch::optim::Optimizer* optimizer, const std::string& path, const std::string& device) {
  try {
    torch::serialize::InputArchive weights;
    if (!archive.try_read("model", weights)) throw InputError("cannot use '" + path + "': no weights");
    if (meta.value("weights", "fp32") == "fp16") {
      auto half = copy_as(model, torch::kHalf);
      half->load(weights);
      copy_values(half, model);
    } else {
      model->load(weights);
    }
    model->to(torch::Device(device));
    if (optimizer) {
      torch::serialize::InputArchive opt;
      if (!archive.try_read("optimizer", opt)) {
        throw InputError("cannot resume from '" + path + "': it holds no optimizer state");
      }
      optimizer->load(opt);
    }
  } catch (const c10::Error& e) {
    throw InputError("cannot use '" + path + "': weights do not fit the model (" + e.what_without_backtrace() + ")");
  }
}

}  // namespace

LoadedModel load_checkpoint(const std::string& path, const std::string& device,
                            torch::optim::Optimizer* optimizer, const UNetOptions* expected) {
  torch::serialize::InputArchive archive;
  load_archive(archive, path, device);
  LoadedModel out;
  out.meta = read_meta(archive, path);
  out.options = options_of(out.meta, path);
  if (expected) check_options(out.options, *expected, path);
  out.model = UNet(out.options);
  load_state(archive, out.meta, out.model, optimizer, path, device);
  out.model->eval();
  return out;
}

nlohmann::json restore_checkpoint(const std::string& path, UNet& model, torch::optim::Optimizer* optimizer,
                                  const std::string& device) {
  torch::serialize::InputArchive archive;
  load_archive(archive, path, device);
  auto meta = read_meta(archive, path);
  check_options(options_of(meta, path), model->options(), path);
  load_state(archive, meta, model, optimizer, path, device);
  return meta;
}

nlohmann::json init_from_checkpoint(const std::string& path, UNet& model, const std::string& device) {
  const auto source = load_checkpoint(path, device);  // one read of the file
  auto found = source.options;
  if (found.mode() == OutputMode::contour && model->options().mode() == OutputMode::contour_distance)
    found.mode(OutputMode::contour_distance);  // grown: the same model with a distance output
  // Dropout holds no weights: fine-tuning may train with another rate (e.g. none).
  if (found.dropout().size() == model->options().dropout().size()) found.dropout(model->options().dropout());
  check_options(found, model->options(), path);
  torch::NoGradGuard no_grad;
  const auto from = source.model->named_parameters();
  for (auto& p : model->named_parameters()) {
    const auto& src = from[p.key()];
    // The head of a grown model: the contour model's 3 class outputs, the distance output fresh.
    p.value().narrow(0, 0, src.size(0)).copy_(src);
  }
  return source.meta;
}

}  // namespace nucseg::model
