#include "util/json.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace dsmoe::json {
namespace {

TEST(Json, TypedAccessorsNameTheField) {
  auto doc = Document::parse(R"({"a": 3, "b": 2.5, "c": "x", "d": null, "e": 4096.0})", "t.json");
  Object o = doc.root_object();
  EXPECT_EQ(get_int(o, "a", "t.json"), 3);
  EXPECT_EQ(get_double(o, "a", "t.json"), 3.0);
  EXPECT_EQ(get_int(o, "e", "t.json"), 4096);
  EXPECT_EQ(get_string(o, "c", "t.json"), "x");
  EXPECT_FALSE(opt_int(o, "d", "t.json").has_value());
  try {
    get_int(o, "c", "t.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 'c'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("expected an integer"), std::string::npos);
  }
  EXPECT_THROW(get_int(o, "zz", "t.json"), Error);
}

TEST(Json, BrokenJsonNamesTheSource) {
  try {
    Document::parse("{\"a\": ", "broken.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFormat);
    EXPECT_NE(std::string(e.what()).find("broken.json"), std::string::npos);
  }
}

TEST(Json, WriterRoundTrips) {
  Writer w;
  w.begin_object().key("s").value("a\"b\n").key("n").value(int64_t{-5}).key("f").value(0.1);
  w.key("arr").begin_array().value(true).null().end_array().end_object();
  EXPECT_EQ(w.str(), R"({"s":"a\"b\n","n":-5,"f":0.1,"arr":[true,null]})");
  auto doc = Document::parse(w.str(), "w");
  EXPECT_EQ(get_string(doc.root_object(), "s", "w"), "a\"b\n");
}

}  // namespace
}  // namespace dsmoe::json
