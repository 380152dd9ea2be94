// Typed event fields as the event writer shows them: JSON-typed values under "fields", text as
// name=value, unset fields as null / -, strings escaped (quotes, control bytes, invalid UTF-8), and the
// fields-probe plugin's real decoder filling them.
#include "plugin/plugin.hpp"
#include "runtime/output/event_writer.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "plugins/fields_probe_msg.h"

using namespace fizzhost;

namespace {

std::string written(runtime::EventFormat format, const runtime::EventTemplate& tpl, const fizzhost_event& e,
                    const fizzhost_field_value* values) {
    char path[] = "/tmp/fizzhost-fields-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    {
        runtime::EventWriter w(fd, format);
        w.write(tpl, e, values);
        REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
    }
    std::string out(8192, '\0');
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    out.resize(size_t(std::max<ssize_t>(0, read(fd, out.data(), out.size()))));
    close(fd);
    // A text line starts with its time (RFC 3339, UTC, microseconds): checked, then left out.
    if (format == runtime::EventFormat::Text) {
        REQUIRE(out.size() > runtime::EventWriter::kStampBytes);
        CHECK(std::regex_match(out.substr(0, runtime::EventWriter::kStampBytes + 1),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z )")));
        out.erase(0, runtime::EventWriter::kStampBytes + 1);
    }
    return out;
}

fields_probe_msg probe(uint32_t saddr) {
    fields_probe_msg m{};
    m.kind = saddr & 1;
    m.saddr = saddr;
    m.big = uint64_t(saddr) * 1000003;
    m.delta = int64_t(saddr & 0xff) - 128;
    m.odd = saddr & 1;
    std::memcpy(m.label, m.odd ? "odd \"q\"" : "even\\", m.odd ? 7 : 5);
    return m;
}

}  // namespace

TEST_CASE("events carry the plugin's typed fields in JSON and text", "[unit]") {
    auto p = plugin::Plugin::load(std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "fields-probe" / "fields-probe.so",
                                  plugin::FilePolicy{});
    REQUIRE(p->fields().size() == 7);
    const runtime::EventOrigin origin{"fzlab0", p->name(), p->version(), "baseline"};
    runtime::EventTemplate json(runtime::EventFormat::Json, origin, p->kinds(), p->fields());
    runtime::EventTemplate text(runtime::EventFormat::Text, origin, p->kinds(), p->fields());

    const uint32_t odd = 0xC6120007, even = 0xC6120008;
    fizzhost_event e{};
    fizzhost_field_value values[FIZZHOST_MAX_FIELDS];
    auto m = probe(odd);
    REQUIRE(p->decode(&m, sizeof m, e, values) == 0);
    auto j = nlohmann::json::parse(written(runtime::EventFormat::Json, json, e, values));
    CHECK(j["kind"] == "Odd");
    CHECK(j["src"] == "198.18.0.7");
    CHECK(j["fields"] == nlohmann::json::parse(R"({"src":"198.18.0.7","big":3323078392205269,"delta":-121,"odd":true,
                                                   "label":"odd \"q\"","ratio":-30.25,"only_odd":7})"));
    CHECK(j["fields"]["big"].is_number_unsigned());
    CHECK(j["fields"]["delta"].is_number_integer());
    CHECK(written(runtime::EventFormat::Text, text, e, values) ==
          "fzlab0 fields-probe 1.0.0 baseline Odd 198.18.0.7 src=198.18.0.7 big=3323078392205269 delta=-121 odd=true "
          "label=\"odd \\\"q\\\"\" ratio=-30.25 only_odd=7\n");

    m = probe(even);
    REQUIRE(p->decode(&m, sizeof m, e, values) == 0);  // clears what the odd message set
    j = nlohmann::json::parse(written(runtime::EventFormat::Json, json, e, values));
    CHECK(j["fields"]["only_odd"].is_null());
    CHECK(j["fields"]["odd"] == false);
    CHECK(j["fields"]["label"] == "even\\");
    CHECK_THAT(written(runtime::EventFormat::Text, text, e, values), Catch::Matchers::EndsWith(" only_odd=-\n"));
}

TEST_CASE("string field values are escaped into valid JSON without the template's help", "[unit]") {
    const std::vector<plugin::FieldSpec> schema = {{"s", FIZZHOST_FIELD_STRING}, {"d", FIZZHOST_FIELD_DOUBLE}};
    runtime::EventTemplate tpl(runtime::EventFormat::Json, {"a\"b", "p", "1.0.0", "baseline"}, {"K\n"}, schema);
    fizzhost_field_value v[2]{};
    const char raw[] = "\x01\"\\\xff\xc3\xa9 ok";  // control, quote, backslash, invalid byte, é
    std::memcpy(v[0].text, raw, sizeof raw - 1);
    v[0].length = sizeof raw - 1;
    v[0].set = 1;
    const double inf = 1.0 / 0.0;
    std::memcpy(&v[1].bits, &inf, sizeof inf);
    v[1].set = 1;
    fizzhost_event e{0, 0x01020304, 0};
    auto line = written(runtime::EventFormat::Json, tpl, e, v);
    auto j = nlohmann::json::parse(line);
    CHECK(j["iface"] == "a\"b");
    CHECK(j["kind"] == "K\n");
    CHECK(j["fields"]["s"] == "\x01\"\\\xef\xbf\xbd\xc3\xa9 ok");
    CHECK(j["fields"]["d"].is_null());  // JSON has no infinity
    // A maximal string of bytes that each need six characters still fits the template's bound.
    std::memset(v[0].text, 1, FIZZHOST_FIELD_TEXT_MAX);
    v[0].length = FIZZHOST_FIELD_TEXT_MAX;
    line = written(runtime::EventFormat::Json, tpl, e, v);
    CHECK(line.size() <= tpl.maxLine());
    CHECK(nlohmann::json::parse(line)["fields"]["s"].get<std::string>() == std::string(FIZZHOST_FIELD_TEXT_MAX, '\x01'));
}
