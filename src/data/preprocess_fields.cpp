// Preprocessor in fields mode: a fitted FieldEncoder for click-through-rate models, saved as JSON.
#include "ember/core/error.h"
#include "ember/data/fields.h"
#include "ember/data/preprocess.h"

namespace ember::data {

Preprocessor Preprocessor::for_fields(std::shared_ptr<const FieldEncoder> fields) {
  EMBER_CHECK(fields != nullptr, "Preprocessor::for_fields: no field encoder given");
  Preprocessor p(PreprocessOptions{}, {}, fields->target(), Task::Classification);
  p.fields_ = std::move(fields);
  p.classes_ = {"0", "1"};
  p.class_values_ = {0, 1};
  p.fitted_ = true;
  return p;
}

const FieldEncoder& Preprocessor::fields() const {
  EMBER_CHECK_T(ValueError, is_fields(), "Preprocessor::fields: not a CTR (fields) preprocessor");
  return *fields_;
}

json::Value Preprocessor::fields_to_json() const {
  json::Value o = json::Value::object();
  o["format"] = "ember.preprocessor";
  o["version"] = 1;
  o["task"] = "ctr";
  o["fields"] = fields_->to_json();
  return o;
}

Preprocessor Preprocessor::fields_from_json(const json::Value& v) {
  return for_fields(std::make_shared<const FieldEncoder>(FieldEncoder::from_json(v["fields"])));
}

}  // namespace ember::data
