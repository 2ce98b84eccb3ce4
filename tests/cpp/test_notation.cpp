// notation.h: MIDI (read back with a small SMF reader here), ABC and MusicXML for one small tune
// with a pickup, a tie across a bar line, a triplet, chord symbols and syllables; bad input.
// Also writes build/test-out/notation.{mid,abc,musicxml} for tests/node/notation.test.mjs.
#include "tunesmith/notation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <fstream>
#include <string>
#include <vector>

#include "test_helpers.h"

using tunesmith::Melody;
using tunesmith::MelodyNote;

namespace {

// 3/4 in G, a quarter pickup; A4 tied over the bar 1|2; a triplet B4 C5 D5; a rest; chords.
Melody tune() {
  Melody m;
  m.title = "Test";
  m.key_fifths = 1;
  m.meter_num = 3;
  m.meter_den = 4;
  m.tempo_qpm = 100;
  m.pickup = 1;
  m.notes = {{62, 0, 1, 80, "Oh"},
             {67, 1, 1, 90, "hal-"},
             {69, 2, 3, 80, "le-"},
             {71, 5, 1.0 / 3, 80, "lu-"},
             {72, 5 + 1.0 / 3, 1.0 / 3, 80, "jah"},
             {74, 5 + 2.0 / 3, 1.0 / 3, 80, ""},
             {67, 7, 3, 80, "home"}};
  m.chords = {{2, "Em"}, {4, "D7"}, {7, "G"}};
  return m;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// ---- a minimal SMF reader
struct Ev {
  uint32_t tick;
  int status;      // 0xff meta, else channel status
  int type;        // meta type
  std::string data;
};
struct Smf {
  int format = -1, ntracks = 0, ppq = 0;
  std::vector<std::vector<Ev>> tracks;
};

uint32_t be(const std::string& s, size_t p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(s.at(p + i));
  return v;
}

Smf read_smf(const std::string& s) {
  Smf f;
  EXPECT_EQ(s.substr(0, 4), "MThd");
  EXPECT_EQ(be(s, 4, 4), 6u);
  f.format = static_cast<int>(be(s, 8, 2));
  f.ntracks = static_cast<int>(be(s, 10, 2));
  f.ppq = static_cast<int>(be(s, 12, 2));
  size_t pos = 14;
  while (pos < s.size()) {
    EXPECT_EQ(s.substr(pos, 4), "MTrk");
    size_t len = be(s, pos + 4, 4), p = pos + 8, end = p + len;
    EXPECT_LE(end, s.size());
    std::vector<Ev> evs;
    uint32_t tick = 0;
    auto var = [&]() {
      uint32_t v = 0;
      uint8_t b;
      do {
        b = static_cast<uint8_t>(s.at(p++));
        v = v << 7 | (b & 0x7f);
      } while (b & 0x80);
      return v;
    };
    while (p < end) {
      tick += var();
      int st = static_cast<uint8_t>(s.at(p++));
      Ev e{tick, st, 0, ""};
      if (st == 0xff) {
        e.type = static_cast<uint8_t>(s.at(p++));
        uint32_t n = var();
        e.data = s.substr(p, n);
        p += n;
      } else {
        EXPECT_TRUE(st & 0x80) << "running status not expected";
        e.data = s.substr(p, 2);
        p += 2;
      }
      evs.push_back(e);
    }
    EXPECT_EQ(p, end);
    EXPECT_TRUE(!evs.empty() && evs.back().status == 0xff && evs.back().type == 0x2f) << "end of track";
    f.tracks.push_back(evs);
    pos = end;
  }
  return f;
}

}  // namespace

TEST(Notation, MidiReadsBack) {
  Melody m = tune();
  m.accompaniment = {{43, 1, 3, 70, ""}, {47, 1, 3, 70, ""}, {50, 4, 3, 70, ""}};
  std::string bytes = tunesmith::write_midi(m);
  Smf f = read_smf(bytes);
  EXPECT_EQ(f.format, 1);
  EXPECT_EQ(f.ntracks, 3);
  EXPECT_EQ(f.ppq, 480);
  ASSERT_EQ(f.tracks.size(), 3u);
  std::map<int, std::string> meta0;
  for (const auto& e : f.tracks[0])
    if (e.status == 0xff) meta0[e.type] = e.data;
  EXPECT_EQ(meta0[0x03], "Test");
  EXPECT_EQ(be(meta0[0x51], 0, 3), 600000u);  // 100 qpm
  EXPECT_EQ(meta0[0x58], std::string("\x03\x02\x18\x08", 4));
  EXPECT_EQ(meta0[0x59], std::string("\x01\x00", 2));

  std::vector<std::pair<uint32_t, int>> ons, offs;
  std::vector<std::string> lyrics;
  for (const auto& e : f.tracks[1]) {
    if (e.status == 0x90) {
      ons.emplace_back(e.tick, static_cast<uint8_t>(e.data[0]));
    }
    if (e.status == 0x80) offs.emplace_back(e.tick, static_cast<uint8_t>(e.data[0]));
    if (e.status == 0xff && e.type == 0x05) lyrics.push_back(e.data);
  }
  std::vector<std::pair<uint32_t, int>> want_on = {{0, 62}, {480, 67}, {960, 69}, {2400, 71}, {2560, 72}, {2720, 74}, {3360, 67}};
  std::vector<std::pair<uint32_t, int>> want_off = {{480, 62}, {960, 67}, {2400, 69}, {2560, 71}, {2720, 72}, {2880, 74}, {4800, 67}};
  EXPECT_EQ(ons, want_on);
  EXPECT_EQ(offs, want_off);
  EXPECT_EQ(lyrics, (std::vector<std::string>{"Oh", "hal-", "le-", "lu-", "jah", "home"}));
  // the lyric directly precedes its note-on at the same tick
  for (size_t i = 0; i + 1 < f.tracks[1].size(); ++i)
    if (f.tracks[1][i].status == 0xff && f.tracks[1][i].type == 0x05) {
      EXPECT_EQ(f.tracks[1][i + 1].status, 0x90);
      EXPECT_EQ(f.tracks[1][i + 1].tick, f.tracks[1][i].tick);
    }
  int acc_on = 0;
  for (const auto& e : f.tracks[2]) acc_on += e.status == 0x91;
  EXPECT_EQ(acc_on, 3);

  // files the Node test reads with the independent readers in tools/melody/ (melody only)
  std::string dir = std::string(TS_SOURCE_DIR) + "/build/test-out";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/notation.mid", std::ios::binary) << tunesmith::write_midi(tune());
  std::ofstream(dir + "/notation.abc", std::ios::binary) << tunesmith::write_abc(tune());
  std::ofstream(dir + "/notation.musicxml", std::ios::binary) << tunesmith::write_musicxml(tune());
}

TEST(Notation, MidiWithoutAccompanimentHasTwoTracks) {
  Smf f = read_smf(tunesmith::write_midi(tune()));
  EXPECT_EQ(f.ntracks, 2);
  EXPECT_EQ(f.tracks.size(), 2u);
}

TEST(Notation, Abc) {
  std::string abc = tunesmith::write_abc(tune());
  EXPECT_EQ(abc,
            "X:1\nT:Test\nM:3/4\nL:1/8\nQ:1/4=100\nK:G\n"
            "D2 | G2 \"Em\"A4- | \"D7\"A2 (3B c d z2 | \"G\"G6 |]\n"
            "w: Oh | hal-le- | _ lu-jah * | home\n")
      << abc;
}

TEST(Notation, AbcAccidentalsUnitsAndLines) {
  Melody m;
  m.meter_num = 2;  // 2/4 < 3/4: L:1/16
  m.key_fifths = -1;  // F major
  m.notes = {{70, 0, 0.5, 80, ""}, {71, 0.5, 0.5, 80, ""}, {70, 1, 0.75, 80, ""}, {48, 1.75, 0.25, 80, ""}, {84, 2, 2, 80, ""}};
  for (int i = 0; i < 4; ++i) m.notes.push_back({60, 4.0 + 2 * i, 2, 80, ""});
  std::string abc = tunesmith::write_abc(m);
  EXPECT_NE(abc.find("L:1/16\n"), std::string::npos) << abc;
  EXPECT_NE(abc.find("K:F\n"), std::string::npos) << abc;
  // Bb from the key, B natural, Bb again (restated after the natural), C3, C6
  EXPECT_NE(abc.find("B2 =B2 _B3 C, | c'8 |"), std::string::npos) << abc;
  EXPECT_EQ(count(abc, "\n"), 6u + 2u) << abc;  // header + two music lines, no w: lines
}

TEST(Notation, UnevenTripletsAndLongNotes) {
  Melody m;  // 4/4: quarter-triplet pair (8+4 units) in beat 1, a 5-quarter note over the bar
  m.notes = {{60, 0, 2.0 / 3, 80, "a"}, {62, 2.0 / 3, 1.0 / 3, 80, "b"}, {64, 1, 5, 80, "c"}, {65, 6, 2, 80, "d"}};
  std::string abc = tunesmith::write_abc(m);
  EXPECT_NE(abc.find("(3:2:2C2 D E6- | E4 F4 |]"), std::string::npos) << abc;
  EXPECT_NE(abc.find("w: a b c | _ d"), std::string::npos) << abc;
  std::string x = tunesmith::write_musicxml(m);
  EXPECT_NE(x.find("<duration>8</duration><voice>1</voice><type>quarter</type><time-modification>"), std::string::npos) << x;
  EXPECT_NE(x.find("<duration>36</duration><tie type=\"start\"/><voice>1</voice><type>half</type><dot/>"), std::string::npos) << x;
  EXPECT_EQ(count(x, "<measure "), 2u);
}

TEST(Notation, MusicXml) {
  Melody m = tune();
  std::string x = tunesmith::write_musicxml(m);
  EXPECT_NE(x.find("<score-partwise version=\"4.0\">"), std::string::npos);
  EXPECT_EQ(count(x, "<measure "), 4u);
  EXPECT_NE(x.find("<measure number=\"0\" implicit=\"yes\">"), std::string::npos);
  EXPECT_EQ(count(x, "<divisions>12</divisions>"), 1u);
  EXPECT_NE(x.find("<key><fifths>1</fifths><mode>major</mode></key><time><beats>3</beats><beat-type>4</beat-type></time>"),
            std::string::npos);
  EXPECT_NE(x.find("<sound tempo=\"100\"/>"), std::string::npos);
  EXPECT_EQ(count(x, "<tie type=\"start\"/>"), 1u);
  EXPECT_EQ(count(x, "<tie type=\"stop\"/>"), 1u);
  EXPECT_EQ(count(x, "<tied type=\"start\"/>"), 1u);
  EXPECT_EQ(count(x, "<time-modification><actual-notes>3</actual-notes>"), 3u);
  EXPECT_EQ(count(x, "<tuplet type=\"start\""), 1u);
  std::vector<std::string> syl;
  for (size_t p = x.find("<syllabic>"); p != std::string::npos; p = x.find("<syllabic>", p + 1))
    syl.push_back(x.substr(p + 10, x.find('<', p + 10) - p - 10));
  EXPECT_EQ(syl, (std::vector<std::string>{"single", "begin", "middle", "middle", "end", "single"}));
  EXPECT_NE(x.find("<text>hal</text>"), std::string::npos);
  EXPECT_NE(x.find("<root-step>E</root-step></root><kind text=\"m\">minor</kind>"), std::string::npos);
  EXPECT_NE(x.find("<root-step>D</root-step></root><kind text=\"7\">dominant</kind>"), std::string::npos);
  EXPECT_NE(x.find("<root-step>G</root-step></root><kind text=\"\">major</kind>"), std::string::npos);
  EXPECT_EQ(x.find("P2"), std::string::npos);
  // durations of the tied A: 2 quarters then 1 quarter
  EXPECT_NE(x.find("<step>A</step><octave>4</octave></pitch><duration>24</duration><tie type=\"start\"/>"), std::string::npos);
  EXPECT_NE(x.find("<step>A</step><octave>4</octave></pitch><duration>12</duration><tie type=\"stop\"/>"), std::string::npos);
}

TEST(Notation, MusicXmlAccompanimentChords) {
  Melody m = tune();
  m.accompaniment = {{43, 1, 3, 70, ""}, {47, 1, 3, 70, ""}, {50, 1, 3, 70, ""}, {55, 4, 6, 70, ""}};
  std::string x = tunesmith::write_musicxml(m);
  EXPECT_NE(x.find("<score-part id=\"P2\">"), std::string::npos);
  size_t p2 = x.find("<part id=\"P2\">");
  ASSERT_NE(p2, std::string::npos);
  std::string part2 = x.substr(p2);
  EXPECT_EQ(count(part2, "<measure "), 4u);
  EXPECT_EQ(count(part2, "<chord/>"), 2u);
  EXPECT_NE(part2.find("<sign>F</sign>"), std::string::npos);
  EXPECT_EQ(count(part2, "<tie type=\"start\"/>"), 1u);  // G3 over the bar 2|3
}

// Random tunes in several meters: every MusicXML measure adds up to the bar (the pickup's to the
// pickup), durations sum to the tune's length, and every writer accepts them.
TEST(Notation, RandomTunesFillMeasures) {
  std::mt19937 rng(7);
  const int meters[][2] = {{4, 4}, {3, 4}, {6, 8}, {2, 2}, {3, 8}, {5, 4}, {7, 16}};
  for (int trial = 0; trial < 60; ++trial) {
    Melody m;
    m.meter_num = meters[trial % 7][0];
    m.meter_den = meters[trial % 7][1];
    int bar = m.meter_num * 48 / m.meter_den;
    m.pickup = (rng() % 2) ? static_cast<int>(rng() % static_cast<unsigned>(bar)) / 12.0 : 0;
    m.key_fifths = static_cast<int>(rng() % 15) - 7;
    m.minor = rng() % 2;
    int t = 0;
    for (int i = 0; i < 30; ++i) {
      int len = 1 + static_cast<int>(rng() % 30);
      if (rng() % 4 == 0) t += static_cast<int>(rng() % 8);
      m.notes.push_back({rng() % 6 == 0 ? -1 : 40 + static_cast<int>(rng() % 50), t / 12.0, len / 12.0, 80,
                         rng() % 3 ? "la" + std::string(rng() % 2 ? "-" : "") : ""});
      if (rng() % 5 == 0) m.chords.push_back({t / 12.0, "Am7"});
      t += len;
    }
    m.accompaniment = {{48, 0, (t / 2) / 12.0, 70, ""}, {52, 0, t / 12.0, 70, ""}};
    EXPECT_NO_THROW(tunesmith::write_midi(m));
    EXPECT_NO_THROW(tunesmith::write_abc(m));
    std::string x = tunesmith::write_musicxml(m);
    int pickup = static_cast<int>(m.pickup * 12 + 0.5), total = 0, measures = 0;
    for (size_t p = x.find("<measure "); p != std::string::npos; p = x.find("<measure ", p + 1)) {
      size_t e = x.find("</measure>", p);
      std::string body = x.substr(p, e - p);
      int sum = 0;
      for (size_t q = body.find("<duration>"); q != std::string::npos; q = body.find("<duration>", q + 1)) {
        bool chord = body.rfind("<chord/>", q) != std::string::npos && body.rfind("<chord/>", q) > body.rfind("<note>", q);
        if (!chord) sum += std::stoi(body.substr(q + 10));
      }
      bool implicit = body.find("implicit=\"yes\"") != std::string::npos;
      EXPECT_EQ(sum, implicit ? pickup : bar) << "trial " << trial << " measure " << measures;
      total += sum;
      ++measures;
    }
    EXPECT_GE(total, 2 * t) << "two parts cover the tune";
  }
}

TEST(Notation, RejectsBadInput) {
  using tstest::error_code;
  auto bad = [](auto change) {
    Melody m = tune();
    change(m);
    std::string codes = error_code([&] { tunesmith::write_midi(m); }) + "," +
                        error_code([&] { tunesmith::write_abc(m); }) + "," +
                        error_code([&] { tunesmith::write_musicxml(m); });
    return codes;
  };
  const std::string inv = "invalid_field,invalid_field,invalid_field";
  EXPECT_EQ(bad([](Melody& m) { m.notes[1].duration = -1; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.notes[1].duration = 0; }), inv);
  EXPECT_EQ(bad([](Melody& m) { std::swap(m.notes[0], m.notes[1]); }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.notes[2].duration = 4; }), inv);  // overlaps the triplet
  EXPECT_EQ(bad([](Melody& m) { m.notes[0].pitch = 128; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.notes[0].pitch = -2; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.meter_den = 6; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.pickup = 3; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.notes[0].duration = 0.1; }), inv);
  EXPECT_EQ(bad([](Melody& m) { m.accompaniment = {{200, 0, 1, 80, ""}}; }), inv);
  EXPECT_EQ(bad([](Melody&) {}), ",,");
}
