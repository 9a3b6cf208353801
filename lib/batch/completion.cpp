#include "batch/completion.hpp"

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace nucseg::batch {
namespace {

namespace stdfs = std::filesystem;
constexpr const char* kMarkerFormat = "nucseg-done";
constexpr int kMarkerVersion = 1;

}  // namespace

std::string done_marker_path(const std::string& done_dir, const std::string& id) {
  return (stdfs::path(done_dir) / (id + ".done.json")).string();
}

void write_done_marker(const std::string& out_dir, const std::string& done_dir,
                       CompletionRecord record) {
  nlohmann::json outputs = nlohmann::json::array();
  for (auto& out : record.outputs) {
    std::error_code ec;
    const auto full = stdfs::path(out_dir) / out.path;
    out.bytes = stdfs::file_size(full, ec);
    if (ec) {
      throw OutputError("cannot mark '" + record.id + "' done: its output '" + full.string() +
                        "' is missing (" + ec.message() + ")");
    }
    outputs.push_back({{"path", out.path}, {"bytes", out.bytes}});
  }
  const nlohmann::json doc = {{"format", kMarkerFormat},
                              {"format_version", kMarkerVersion},
                              {"id", record.id},
                              {"input", record.input},
                              {"model_hash", record.model_hash},
                              {"settings_hash", record.settings_hash},
                              {"outputs", outputs},
                              {"result", record.result}};
  const std::string path = done_marker_path(done_dir, record.id);
  fs::ensure_directory(stdfs::path(path).parent_path().string());
  fs::write_text_atomic(path, doc.dump(1) + "\n");
}

CompletionCheck check_completion(const std::string& out_dir, const std::string& done_dir,
                                 const std::string& id, const std::string& model_hash,
                                 const std::string& settings_hash) {
  CompletionCheck check;
  const std::string path = done_marker_path(done_dir, id);
  std::ifstream in(path);
  if (!in) {
    check.reason = "no completion marker";
    return check;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
    if (doc.at("format").get<std::string>() != kMarkerFormat ||
        doc.at("format_version").get<int>() != kMarkerVersion) {
      check.reason = "marker '" + path + "' has another format";
      return check;
    }
    CompletionRecord& r = check.record;
    r.id = doc.at("id").get<std::string>();
    r.input = doc.at("input").get<std::string>();
    r.model_hash = doc.at("model_hash").get<std::string>();
    r.settings_hash = doc.at("settings_hash").get<std::string>();
    r.result = doc.at("result");
    for (const auto& o : doc.at("outputs")) {
      r.outputs.push_back({o.at("path").get<std::string>(), o.at("bytes").get<std::uint64_t>()});
    }
  } catch (const nlohmann::json::exception& e) {
    check.reason = "marker '" + path + "' is damaged: " + e.what();
    return check;
  }
  const CompletionRecord& r = check.record;
  if (r.id != id) {
    check.reason = "marker '" + path + "' belongs to '" + r.id + "'";
  } else if (r.model_hash != model_hash) {
    check.reason = "made with another model";
  } else if (r.settings_hash != settings_hash) {
    check.reason = "made with other settings";
  } else {
    for (const auto& o : r.outputs) {
      std::error_code ec;
      const auto size = stdfs::file_size(stdfs::path(out_dir) / o.path, ec);
      if (ec) {
        check.reason = "output '" + o.path + "' is missing";
        return check;
      }
      if (size != o.bytes) {
        check.reason = "output '" + o.path + "' has " + std::to_string(size) +
                       " bytes, the marker recorded " + std::to_string(o.bytes);
        return check;
      }
    }
    check.complete = true;
  }
  return check;
}

void remove_done_marker(const std::string& done_dir, const std::string& id) {
  std::error_code ec;
  stdfs::remove(done_marker_path(done_dir, id), ec);
}

}  // namespace nucseg::batch
