// MIDI, ABC and MusicXML writers for a Melody (notation.h). Internally all times are integer
// "units" of 1/12 quarter note; a written (notated) length is kept in half units so a triplet
// 32nd (1 unit real, 1.5 units written) stays an integer.
#include "tunesmith/notation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "tunesmith/error.h"

namespace tunesmith {
namespace {

constexpr int kUnitsPerQuarter = 12;
constexpr int kTicksPerUnit = 480 / kUnitsPerQuarter;

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw Error("invalid_field", "melody: " + message, {{"field", field}});
}

// Quarter notes -> units; throws when off the grid.
int to_units(double q, const std::string& field) {
  if (!std::isfinite(q)) invalid(field, field + " is not a number");
  double u = q * kUnitsPerQuarter;
  double r = std::round(u);
  if (std::fabs(u - r) > 1e-6 || std::fabs(r) > 1e9) invalid(field, field + " is not a multiple of 1/12 quarter note");
  return static_cast<int>(r);
}

struct UNote {
  int pitch, start, len, velocity;
  std::string syllable;
};

struct Prepared {
  std::vector<UNote> notes, accomp;
  int bar = 48, pickup = 0;
  std::vector<std::pair<int, std::string>> chords;
};

void check_note(const MelodyNote& n, const std::string& part, size_t i, UNote& out) {
  std::string f = part + "[" + std::to_string(i) + "]";
  if (n.pitch < -1 || n.pitch > 127) invalid(f + ".pitch", "pitch outside 0..127 (-1 = rest)");
  out.start = to_units(n.start, f + ".start");
  out.len = to_units(n.duration, f + ".duration");
  if (out.start < 0) invalid(f + ".start", "negative start");
  if (out.len <= 0) invalid(f + ".duration", "duration must be > 0");
  out.pitch = n.pitch;
  out.velocity = std::clamp(n.velocity, 1, 127);
  out.syllable = n.syllable;
}

Prepared prepare(const Melody& m) {
  Prepared p;
  if (m.meter_num < 1 || m.meter_num > 64) invalid("meter_num", "meter numerator outside 1..64");
  int d = m.meter_den;
  if (d < 1 || d > 64 || (d & (d - 1)) != 0) invalid("meter_den", "meter denominator not a power of two (1..64)");
  if ((m.meter_num * 4 * kUnitsPerQuarter) % d != 0) invalid("meter_den", "bar is not a multiple of 1/12 quarter note");
  p.bar = m.meter_num * 4 * kUnitsPerQuarter / d;
  if (m.key_fifths < -7 || m.key_fifths > 7) invalid("key_fifths", "key_fifths outside -7..7");
  if (!std::isfinite(m.tempo_qpm) || m.tempo_qpm <= 0 || m.tempo_qpm > 10000) invalid("tempo_qpm", "tempo must be > 0");
  p.pickup = to_units(m.pickup, "pickup");
  if (p.pickup < 0 || p.pickup >= p.bar) invalid("pickup", "pickup outside [0, bar)");
  int prev_end = 0;
  for (size_t i = 0; i < m.notes.size(); ++i) {
    UNote u;
    check_note(m.notes[i], "notes", i, u);
    if (i > 0 && u.start < prev_end) invalid("notes[" + std::to_string(i) + "].start", "melody notes unsorted or overlapping");
    prev_end = u.start + u.len;
    p.notes.push_back(u);
  }
  for (size_t i = 0; i < m.accompaniment.size(); ++i) {
    UNote u;
    check_note(m.accompaniment[i], "accompaniment", i, u);
    p.accomp.push_back(u);
  }
  std::stable_sort(p.accomp.begin(), p.accomp.end(), [](const UNote& a, const UNote& b) { return a.start < b.start; });
  for (size_t i = 0; i < m.chords.size(); ++i) {
    int s = to_units(m.chords[i].first, "chords[" + std::to_string(i) + "]");
    if (s < 0) invalid("chords[" + std::to_string(i) + "]", "negative chord start");
    if (!m.chords[i].second.empty()) p.chords.emplace_back(s, m.chords[i].second);
  }
  std::stable_sort(p.chords.begin(), p.chords.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return p;
}

// ---------------------------------------------------------------- MIDI

void put_var(std::string& s, uint32_t v) {
  char buf[5];
  int n = 0;
  buf[n++] = static_cast<char>(v & 0x7f);
  while (v >>= 7) buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
  while (n) s += buf[--n];
}

void put_be(std::string& s, uint32_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

struct MidiEvent {
  uint32_t tick;
  int order;  // at one tick: 0 note-off, 1 meta/lyric, 2 note-on
  std::string bytes;  // without delta
};

std::string meta(int type, const std::string& data) {
  std::string s;
  s += '\xff';
  s += static_cast<char>(type);
  put_var(s, static_cast<uint32_t>(data.size()));
  return s + data;
}

std::string track_chunk(std::vector<MidiEvent> ev) {
  std::stable_sort(ev.begin(), ev.end(), [](const MidiEvent& a, const MidiEvent& b) {
    return a.tick != b.tick ? a.tick < b.tick : a.order < b.order;
  });
  std::string body;
  uint32_t t = 0;
  for (const auto& e : ev) {
    put_var(body, e.tick - t);
    t = e.tick;
    body += e.bytes;
  }
  put_var(body, 0);
  body += meta(0x2f, "");
  std::string s = "MTrk";
  put_be(s, static_cast<uint32_t>(body.size()), 4);
  return s + body;
}

std::vector<MidiEvent> note_events(const std::vector<UNote>& notes, int channel, bool lyrics, const std::string& name) {
  std::vector<MidiEvent> ev;
  ev.push_back({0, 1, meta(0x03, name)});
  for (const auto& n : notes) {
    if (n.pitch < 0) continue;
    uint32_t on = static_cast<uint32_t>(n.start) * kTicksPerUnit, off = static_cast<uint32_t>(n.start + n.len) * kTicksPerUnit;
    if (lyrics && !n.syllable.empty()) ev.push_back({on, 1, meta(0x05, n.syllable)});
    ev.push_back({on, 2, std::string{static_cast<char>(0x90 | channel), static_cast<char>(n.pitch), static_cast<char>(n.velocity)}});
    ev.push_back({off, 0, std::string{static_cast<char>(0x80 | channel), static_cast<char>(n.pitch), static_cast<char>(0x40)}});
  }
  return ev;
}

// ---------------------------------------------------------------- layout (ABC, MusicXML)

// A notated piece: one note/rest/chord of one written value.
struct Piece {
  int start = 0, len = 0;       // units
  int written = 0;              // written length in half units (quarter = 24)
  bool triplet = false, tuplet_start = false, tuplet_stop = false;
  int tuplet_count = 0;         // pieces in the group (on the tuplet_start piece)
  std::vector<int> pitches;     // empty = rest
  std::vector<bool> tie_stop, tie_start;  // per pitch
  bool first_of_note = true;    // carries the syllable
  std::string syllable;
  std::string chord;            // chord symbol starting here
};

struct Measure {
  int start = 0, len = 0, number = 0;
  bool implicit = false;
  int vstart = 0;  // where the bar would start if full (the pickup's is before 0)
  std::vector<Piece> pieces;
};

// A stretch with a fixed set of sounding pitches (before splitting into pieces).
struct Event {
  int start, len;
  std::vector<int> pitches;
  std::vector<bool> cont_in, cont_out;  // per pitch: tied from before / into after
  std::string syllable;
};

std::vector<Event> melody_events(const std::vector<UNote>& notes) {
  std::vector<Event> ev;
  int t = 0;
  for (const auto& n : notes) {
    if (n.start > t) ev.push_back({t, n.start - t, {}, {}, {}, ""});
    Event e{n.start, n.len, {}, {}, {}, n.syllable};
    if (n.pitch >= 0) e.pitches = {n.pitch}, e.cont_in = {false}, e.cont_out = {false};
    ev.push_back(e);
    t = n.start + n.len;
  }
  return ev;
}

// Any polyphony -> one voice of chords: cut at every note boundary, tie what continues.
std::vector<Event> chord_events(const std::vector<UNote>& notes) {
  std::set<int> cuts{0};
  for (const auto& n : notes) cuts.insert(n.start), cuts.insert(n.start + n.len);
  std::vector<Event> ev;
  std::vector<int> c(cuts.begin(), cuts.end());
  for (size_t i = 0; i + 1 < c.size(); ++i) {
    Event e{c[i], c[i + 1] - c[i], {}, {}, {}, ""};
    for (const auto& n : notes) {
      if (n.pitch < 0 || n.start >= c[i + 1] || n.start + n.len <= c[i]) continue;
      if (std::find(e.pitches.begin(), e.pitches.end(), n.pitch) != e.pitches.end()) continue;
      e.pitches.push_back(n.pitch);
      e.cont_in.push_back(n.start < c[i]);
      e.cont_out.push_back(n.start + n.len > c[i + 1]);
    }
    // keep pitches sorted low to high, with their flags
    std::vector<size_t> idx(e.pitches.size());
    for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return e.pitches[a] < e.pitches[b]; });
    Event s{e.start, e.len, {}, {}, {}, ""};
    for (size_t k : idx) s.pitches.push_back(e.pitches[k]), s.cont_in.push_back(e.cont_in[k]), s.cont_out.push_back(e.cont_out[k]);
    ev.push_back(s);
  }
  return ev;
}

const int kStraight[] = {72, 48, 36, 24, 18, 12, 9, 6, 3};  // units: dotted whole .. 16th
const int kTriplet[] = {8, 6, 4, 3, 2, 1};                   // units inside a 3:2 group

std::vector<int> decompose(int len, bool triplet) {
  std::vector<int> out;
  while (len > 0) {
    bool found = false;
    for (int v : triplet ? std::vector<int>(std::begin(kTriplet), std::end(kTriplet))
                         : std::vector<int>(std::begin(kStraight), std::end(kStraight))) {
      if (v <= len) {
        out.push_back(v);
        len -= v;
        found = true;
        break;
      }
    }
    if (!found) {  // off the 1/16 grid in a straight stretch (cannot happen after chunking); 1 unit each
      out.push_back(len);
      break;
    }
  }
  return out;
}

int mod(int a, int b) { return ((a % b) + b) % b; }

// Measures for the whole piece, pieces laid out. pad: fill the last measure with a rest.
std::vector<Measure> layout(std::vector<Event> events, const Prepared& p, bool pad, bool with_chords) {
  int end = events.empty() ? 0 : events.back().start + events.back().len;
  std::vector<Measure> ms;
  int t = 0, number = 1;
  if (p.pickup > 0) ms.push_back({0, p.pickup, 0, true, p.pickup - p.bar, {}}), t = p.pickup;
  while (t < end || ms.empty()) ms.push_back({t, p.bar, number++, false, t, {}}), t += p.bar;
  int total = ms.back().start + ms.back().len;
  if (pad && end < total) events.push_back({end, total - end, {}, {}, {}, ""});
  if (!pad && end < total) ms.back().len = std::max(0, end - ms.back().start), total = end;
  if (!pad && ms.back().len == 0 && ms.size() > 1) ms.pop_back();

  // cut points: chord starts
  std::set<int> cuts;
  if (with_chords)
    for (const auto& c : p.chords) cuts.insert(c.first);
  std::set<int> bounds;
  for (const auto& e : events) bounds.insert(e.start), bounds.insert(e.start + e.len);
  for (int c : cuts) bounds.insert(c);

  size_t ei = 0;
  for (auto& m : ms) {
    int vs = m.vstart;
    // chunk boundaries: every quarter from vs; a chunk is a triplet chunk when a boundary inside
    // (or its clipped ends) is off the 1/16 grid
    std::vector<std::pair<int, int>> chunks;  // [a, b) triplet chunks
    for (int a = vs; a < m.start + m.len; a += kUnitsPerQuarter) {
      int ca = std::max(a, m.start), cb = std::min(a + kUnitsPerQuarter, m.start + m.len);
      if (ca >= cb) continue;
      bool trip = mod(ca - p.pickup, 3) != 0 || mod(cb - p.pickup, 3) != 0;
      for (auto it = bounds.upper_bound(ca); !trip && it != bounds.end() && *it < cb; ++it)
        if (mod(*it - p.pickup, 3) != 0) trip = true;
      if (trip) chunks.emplace_back(ca, cb);
    }
    std::set<int> split{m.start, m.start + m.len};
    for (auto& c : chunks) split.insert(c.first), split.insert(c.second);
    for (int c : cuts)
      if (c > m.start && c < m.start + m.len) split.insert(c);
    // events overlapping this measure
    while (ei < events.size() && events[ei].start + events[ei].len <= m.start) ++ei;
    for (size_t k = ei; k < events.size() && events[k].start < m.start + m.len; ++k) {
      const Event& e = events[k];
      int a = std::max(e.start, m.start), b = std::min(e.start + e.len, m.start + m.len);
      std::vector<int> pts{a};
      for (auto it = split.upper_bound(a); it != split.end() && *it < b; ++it) pts.push_back(*it);
      pts.push_back(b);
      for (size_t s = 0; s + 1 < pts.size(); ++s) {
        bool trip = false;
        for (auto& c : chunks) trip = trip || (pts[s] >= c.first && pts[s] < c.second);
        int pos = pts[s];
        for (int v : decompose(pts[s + 1] - pts[s], trip)) {
          Piece pc;
          pc.start = pos;
          pc.len = v;
          pc.written = trip ? v * 3 : v * 2;
          pc.triplet = trip;
          pc.pitches = e.pitches;
          bool first = pos == e.start, last = pos + v == e.start + e.len;
          pc.first_of_note = first;
          if (first) pc.syllable = e.syllable;
          for (size_t q = 0; q < e.pitches.size(); ++q) {
            pc.tie_stop.push_back(!first || e.cont_in[q]);
            pc.tie_start.push_back(!last || e.cont_out[q]);
          }
          m.pieces.push_back(pc);
          pos += v;
        }
      }
    }
    // tuplet brackets per triplet chunk
    for (auto& c : chunks) {
      int firsti = -1, lasti = -1;
      for (size_t i = 0; i < m.pieces.size(); ++i)
        if (m.pieces[i].start >= c.first && m.pieces[i].start < c.second) {
          if (firsti < 0) firsti = static_cast<int>(i);
          lasti = static_cast<int>(i);
        }
      if (firsti < 0) continue;
      m.pieces[firsti].tuplet_start = true;
      m.pieces[firsti].tuplet_count = lasti - firsti + 1;
      m.pieces[lasti].tuplet_stop = true;
    }
  }
  if (with_chords)
    for (const auto& c : p.chords)
      for (auto& m : ms)
        for (auto& pc : m.pieces)
          if (pc.start == c.first && pc.chord.empty()) pc.chord = c.second;
  return ms;
}

// ---------------------------------------------------------------- spelling

const int kLetterPc[7] = {0, 2, 4, 5, 7, 9, 11};  // C D E F G A B
const char kLetters[] = "CDEFGAB";

int key_alter(int letter, int fifths) {
  static const int sharp_order[7] = {3, 0, 4, 1, 5, 2, 6};  // F C G D A E B
  static const int flat_order[7] = {6, 2, 5, 1, 4, 0, 3};   // B E A D G C F
  for (int i = 0; i < fifths; ++i)
    if (sharp_order[i] == letter) return 1;
  for (int i = 0; i < -fifths; ++i)
    if (flat_order[i] == letter) return -1;
  return 0;
}

struct Spelled {
  int letter, alter, octave;
};

Spelled spell(int pitch, int fifths) {
  int pc = pitch % 12;
  int letter = -1, alter = 0;
  for (int l = 0; l < 7 && letter < 0; ++l) {
    int a = key_alter(l, fifths);
    if (mod(kLetterPc[l] + a, 12) == pc) letter = l, alter = a;
  }
  if (letter < 0) {
    static const int sharp_l[12] = {0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6};
    static const int flat_l[12] = {0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6};
    letter = fifths >= 0 ? sharp_l[pc] : flat_l[pc];
    alter = mod(pc - kLetterPc[letter] + 6, 12) - 6;
  }
  int octave = (pitch - kLetterPc[letter] - alter) / 12 - 1;
  return {letter, alter, octave};
}

// ---------------------------------------------------------------- ABC

std::string abc_key(int fifths, bool minor) {
  static const char* major[15] = {"Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"};
  static const char* minr[15] = {"Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m"};
  return (minor ? minr : major)[fifths + 7];
}

std::string abc_length(int written, int unit_half) {  // written / unit as ABC length suffix
  int g = std::gcd(written, unit_half);
  int n = written / g, d = unit_half / g;
  if (d == 1) return n == 1 ? "" : std::to_string(n);
  return (n == 1 ? "" : std::to_string(n)) + "/" + std::to_string(d);
}

std::string abc_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') out += '~';
    else if (c == '*' || c == '_' || c == '|' || c == '%') out += std::string("\\") + c;
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string header_text(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

std::string fmt_num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

std::string write_midi(const Melody& m) {
  Prepared p = prepare(m);
  int ntracks = p.accomp.empty() ? 2 : 3;
  std::string s = "MThd";
  put_be(s, 6, 4);
  put_be(s, 1, 2);
  put_be(s, static_cast<uint32_t>(ntracks), 2);
  put_be(s, 480, 2);
  std::vector<MidiEvent> t0;
  t0.push_back({0, 1, meta(0x03, m.title)});
  std::string tempo;
  put_be(tempo, static_cast<uint32_t>(std::lround(60e6 / m.tempo_qpm)) & 0xffffff, 3);
  t0.push_back({0, 1, meta(0x51, tempo)});
  int lg = 0;
  while ((1 << lg) < m.meter_den) ++lg;
  t0.push_back({0, 1, meta(0x58, std::string{static_cast<char>(m.meter_num), static_cast<char>(lg), 24, 8})});
  t0.push_back({0, 1, meta(0x59, std::string{static_cast<char>(m.key_fifths), static_cast<char>(m.minor ? 1 : 0)})});
  s += track_chunk(t0);
  s += track_chunk(note_events(p.notes, 0, true, "Melody"));
  if (!p.accomp.empty()) s += track_chunk(note_events(p.accomp, 1, false, "Accompaniment"));
  return s;
}

std::string write_abc(const Melody& m) {
  Prepared p = prepare(m);
  bool short_meter = m.meter_num * 4 < 3 * m.meter_den;  // below 3/4
  int unit_half = short_meter ? 6 : 12;                  // 1/16 or 1/8 in half units
  std::ostringstream o;
  o << "X:1\n";
  o << "T:" << (m.title.empty() ? std::string("Untitled") : header_text(m.title)) << "\n";
  o << "M:" << m.meter_num << "/" << m.meter_den << "\n";
  o << "L:1/" << (short_meter ? 16 : 8) << "\n";
  o << "Q:1/4=" << std::lround(m.tempo_qpm) << "\n";
  o << "K:" << abc_key(m.key_fifths, m.minor) << "\n";
  if (p.notes.empty()) return o.str();
  auto ms = layout(melody_events(p.notes), p, false, true);
  const int bars_per_line = 4;
  std::string music, words;
  int full_bars = 0;
  bool any_syllable = false;
  for (size_t mi = 0; mi < ms.size(); ++mi) {
    const Measure& me = ms[mi];
    // Alters in force this bar. ABC 2.1 lets an accidental carry to the same letter in every octave
    // (the default of %%propagate-accidentals, abc2midi) while other readers carry it in its octave
    // only: write an accidental whenever either reading would differ from the note's alter.
    std::map<std::pair<int, int>, int> acc;  // (letter, octave) -> alter
    std::map<int, int> acc_any;              // letter -> alter of the last accidental in any octave
    std::string bar_music, bar_words;
    for (const Piece& pc : me.pieces) {
      std::string tok;
      if (pc.tuplet_start) {
        bool even = true;
        for (const Piece& q : me.pieces)
          if (q.start >= pc.start && q.start < pc.start + 12 && q.triplet && q.written != pc.written) even = false;
        tok += pc.tuplet_count == 3 && even ? "(3" : "(3:2:" + std::to_string(pc.tuplet_count);
      }
      if (!pc.chord.empty()) tok += "\"" + pc.chord + "\"";
      if (pc.pitches.empty()) {
        tok += "z";
      } else {
        Spelled sp = spell(pc.pitches[0], m.key_fifths);
        auto k = std::make_pair(sp.letter, sp.octave);
        int in_key = key_alter(sp.letter, m.key_fifths);
        int cur = acc.count(k) ? acc[k] : in_key, cur_any = acc_any.count(sp.letter) ? acc_any[sp.letter] : in_key;
        if (cur != sp.alter || cur_any != sp.alter) {
          tok += sp.alter == 2 ? "^^" : sp.alter == 1 ? "^" : sp.alter == 0 ? "=" : sp.alter == -1 ? "_" : "__";
          acc[k] = sp.alter;
          acc_any[sp.letter] = sp.alter;
        }
        char c = kLetters[sp.letter];
        if (sp.octave >= 5) {
          tok += static_cast<char>(c - 'A' + 'a');
          tok += std::string(static_cast<size_t>(sp.octave - 5), '\'');
        } else {
          tok += c;
          tok += std::string(static_cast<size_t>(4 - sp.octave), ',');
        }
      }
      tok += abc_length(pc.written, unit_half);
      if (!pc.pitches.empty() && pc.tie_start[0]) tok += "-";
      bar_music += (bar_music.empty() ? "" : " ") + tok;
      if (!pc.pitches.empty()) {
        std::string w = !pc.first_of_note ? "_" : pc.syllable.empty() ? "*" : abc_text(pc.syllable);
        if (!pc.syllable.empty()) any_syllable = true;
        bool glue = !bar_words.empty() && bar_words.back() == '-';
        bar_words += (bar_words.empty() || glue ? "" : " ") + w;
      }
    }
    bool last = mi + 1 == ms.size();
    music += bar_music + (last ? " |]" : " | ");
    // "|" in w: is optional; leave it out after a bar where no note starts (only notes tied in, and
    // rests): abc2midi merges tied notes and never gives such a bar its "_", so after a "|" there its
    // syllables shift by one, while a reader counting notes aligns the same either way.
    bool onset = false;
    for (const Piece& pc : me.pieces) onset = onset || (!pc.pitches.empty() && pc.first_of_note);
    words += bar_words + (last ? "" : onset || bar_words.empty() ? " | " : " ");
    if (!me.implicit) ++full_bars;
    // Four bars a line, but never break inside a tie: abc2midi does not give the continued note a
    // lyric slot after a line break (so its "_" would take the next note's), abcm2ps does.
    bool tie_out = !me.pieces.empty() && !me.pieces.back().pitches.empty() && me.pieces.back().tie_start[0];
    if (last || (!me.implicit && full_bars >= bars_per_line && !tie_out)) {
      full_bars = 0;
      while (!music.empty() && music.back() == ' ') music.pop_back();
      while (!words.empty() && (words.back() == ' ' || words.back() == '|')) words.pop_back();
      o << music << "\n";
      if (any_syllable) o << "w: " << words << "\n";
      music.clear(), words.clear();
      any_syllable = false;
    }
  }
  return o.str();
}

namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

const char* type_name(int written_half, int& dots) {
  static const std::pair<int, const char*> base[] = {{96, "whole"}, {48, "half"}, {24, "quarter"}, {12, "eighth"}, {6, "16th"}, {3, "32nd"}};
  for (auto& b : base) {
    if (written_half == b.first) return dots = 0, b.second;
    if (written_half * 2 == b.first * 3) return dots = 1, b.second;
  }
  dots = 0;
  return "quarter";  // not reached for decomposed values
}

// Harmony element from a chord symbol; "" when the root cannot be read.
std::string harmony_xml(const std::string& sym) {
  if (sym.empty() || sym[0] < 'A' || sym[0] > 'G') return "";
  size_t i = 1;
  int alter = 0;
  if (i < sym.size() && (sym[i] == '#' || sym[i] == 'b')) alter = sym[i] == '#' ? 1 : -1, ++i;
  std::string rest = sym.substr(i), bass;
  size_t slash = rest.find('/');
  if (slash != std::string::npos) bass = rest.substr(slash + 1), rest = rest.substr(0, slash);
  static const std::map<std::string, std::string> kinds = {
      {"", "major"}, {"maj", "major"}, {"M", "major"}, {"m", "minor"}, {"min", "minor"}, {"-", "minor"},
      {"7", "dominant"}, {"maj7", "major-seventh"}, {"M7", "major-seventh"}, {"m7", "minor-seventh"},
      {"min7", "minor-seventh"}, {"dim", "diminished"}, {"o", "diminished"}, {"dim7", "diminished-seventh"},
      {"o7", "diminished-seventh"}, {"aug", "augmented"}, {"+", "augmented"}, {"m7b5", "half-diminished"},
      {"sus4", "suspended-fourth"}, {"sus", "suspended-fourth"}, {"sus2", "suspended-second"}, {"6", "major-sixth"},
      {"m6", "minor-sixth"}, {"9", "dominant-ninth"}, {"maj9", "major-ninth"}, {"m9", "minor-ninth"},
      {"11", "dominant-11th"}, {"13", "dominant-13th"}, {"5", "power"}, {"mmaj7", "major-minor"}};
  auto it = kinds.find(rest);
  std::string kind = it == kinds.end() ? "other" : it->second;
  std::ostringstream o;
  o << "      <harmony><root><root-step>" << sym[0] << "</root-step>";
  if (alter) o << "<root-alter>" << alter << "</root-alter>";
  o << "</root><kind text=\"" << xml_escape(rest) << "\">" << kind << "</kind>";
  if (!bass.empty() && bass[0] >= 'A' && bass[0] <= 'G') {
    o << "<bass><bass-step>" << bass[0] << "</bass-step>";
    if (bass.size() > 1 && (bass[1] == '#' || bass[1] == 'b')) o << "<bass-alter>" << (bass[1] == '#' ? 1 : -1) << "</bass-alter>";
    o << "</bass>";
  }
  o << "</harmony>\n";
  return o.str();
}

// Lyric syllabic value for note i: a trailing "-" continues the word.
std::vector<std::string> syllabics(const std::vector<UNote>& notes) {
  std::vector<std::string> out(notes.size());
  bool in_word = false;
  for (size_t i = 0; i < notes.size(); ++i) {
    const std::string& s = notes[i].syllable;
    if (s.empty()) continue;
    bool cont = s.size() > 1 && s.back() == '-';
    out[i] = in_word ? (cont ? "middle" : "end") : (cont ? "begin" : "single");
    in_word = cont;
  }
  return out;
}

void write_part(std::ostringstream& o, const std::string& id, const std::vector<Measure>& ms, const Melody& m,
                const Prepared& p, bool melody, const std::map<int, std::string>& syl_at) {
  o << "  <part id=\"" << id << "\">\n";
  int sum = 0, cnt = 0;
  for (const auto& n : melody ? p.notes : p.accomp)
    if (n.pitch >= 0) sum += n.pitch, ++cnt;
  bool bass = cnt > 0 && sum / cnt < (melody ? 55 : 60);
  for (size_t mi = 0; mi < ms.size(); ++mi) {
    const Measure& me = ms[mi];
    o << "    <measure number=\"" << me.number << "\"" << (me.implicit ? " implicit=\"yes\"" : "") << ">\n";
    if (mi == 0) {
      o << "      <attributes><divisions>" << kUnitsPerQuarter << "</divisions><key><fifths>" << m.key_fifths
        << "</fifths><mode>" << (m.minor ? "minor" : "major") << "</mode></key><time><beats>" << m.meter_num
        << "</beats><beat-type>" << m.meter_den << "</beat-type></time><clef><sign>" << (bass ? "F" : "G")
        << "</sign><line>" << (bass ? 4 : 2) << "</line></clef></attributes>\n";
      if (melody)
        o << "      <direction placement=\"above\"><direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>"
          << fmt_num(m.tempo_qpm) << "</per-minute></metronome></direction-type><sound tempo=\"" << fmt_num(m.tempo_qpm)
          << "\"/></direction>\n";
    }
    for (const Piece& pc : me.pieces) {
      if (melody && !pc.chord.empty()) o << harmony_xml(pc.chord);
      int dots = 0;
      const char* type = type_name(pc.written, dots);
      size_t n = std::max<size_t>(1, pc.pitches.size());
      for (size_t k = 0; k < n; ++k) {
        o << "      <note>";
        if (k > 0) o << "<chord/>";
        if (pc.pitches.empty()) {
          o << "<rest/>";
        } else {
          Spelled sp = spell(pc.pitches[k], m.key_fifths);
          o << "<pitch><step>" << kLetters[sp.letter] << "</step>";
          if (sp.alter) o << "<alter>" << sp.alter << "</alter>";
          o << "<octave>" << sp.octave << "</octave></pitch>";
        }
        o << "<duration>" << pc.len << "</duration>";
        bool ts = !pc.pitches.empty() && pc.tie_stop[k], tb = !pc.pitches.empty() && pc.tie_start[k];
        if (ts) o << "<tie type=\"stop\"/>";
        if (tb) o << "<tie type=\"start\"/>";
        o << "<voice>1</voice><type>" << type << "</type>";
        for (int d = 0; d < dots; ++d) o << "<dot/>";
        if (pc.triplet) o << "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>";
        bool tup_start = pc.tuplet_start && k == 0, tup_stop = pc.tuplet_stop && k == 0;
        if (ts || tb || tup_start || tup_stop) {
          o << "<notations>";
          if (ts) o << "<tied type=\"stop\"/>";
          if (tb) o << "<tied type=\"start\"/>";
          if (tup_start) o << "<tuplet type=\"start\" bracket=\"yes\"/>";
          if (tup_stop) o << "<tuplet type=\"stop\"/>";
          o << "</notations>";
        }
        if (melody && k == 0 && pc.first_of_note && !pc.syllable.empty()) {
          auto it = syl_at.find(pc.start);
          std::string text = pc.syllable;
          if (text.size() > 1 && text.back() == '-') text.pop_back();
          o << "<lyric number=\"1\"><syllabic>" << (it == syl_at.end() ? "single" : it->second) << "</syllabic><text>"
            << xml_escape(text) << "</text></lyric>";
        }
        o << "</note>\n";
      }
    }
    if (mi + 1 == ms.size()) o << "      <barline location=\"right\"><bar-style>light-heavy</bar-style></barline>\n";
    o << "    </measure>\n";
  }
  o << "  </part>\n";
}

}  // namespace

std::string write_musicxml(const Melody& m) {
  Prepared p = prepare(m);
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
    << "<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 4.0 Partwise//EN\" "
       "\"http://www.musicxml.org/dtds/partwise.dtd\">\n"
    << "<score-partwise version=\"4.0\">\n";
  if (!m.title.empty()) o << "  <work><work-title>" << xml_escape(m.title) << "</work-title></work>\n";
  // Each part names its instrument and MIDI channel (the same as write_midi's: melody 1, accompaniment
  // 2, piano); without them MuseScore logs "no instrument found for part" on import.
  auto score_part = [&](const char* id, const char* name, int channel) {
    o << "    <score-part id=\"" << id << "\"><part-name>" << name << "</part-name><score-instrument id=\"" << id
      << "-I1\"><instrument-name>" << name << "</instrument-name></score-instrument><midi-instrument id=\"" << id
      << "-I1\"><midi-channel>" << channel << "</midi-channel><midi-program>1</midi-program></midi-instrument></score-part>\n";
  };
  o << "  <part-list>\n";
  score_part("P1", "Melody", 1);
  if (!p.accomp.empty()) score_part("P2", "Accompaniment", 2);
  o << "  </part-list>\n";
  // both parts get the same number of measures
  int end = 0;
  for (const auto& n : p.notes) end = std::max(end, n.start + n.len);
  for (const auto& n : p.accomp) end = std::max(end, n.start + n.len);
  auto ev1 = melody_events(p.notes);
  if (ev1.empty() ? end > 0 : ev1.back().start + ev1.back().len < end) {
    int t = ev1.empty() ? 0 : ev1.back().start + ev1.back().len;
    ev1.push_back({t, end - t, {}, {}, {}, ""});
  }
  std::vector<std::string> syl = syllabics(p.notes);
  std::map<int, std::string> syl_at;
  for (size_t i = 0; i < p.notes.size(); ++i)
    if (!syl[i].empty()) syl_at[p.notes[i].start] = syl[i];
  write_part(o, "P1", layout(ev1, p, true, true), m, p, true, syl_at);
  if (!p.accomp.empty()) {
    auto ev2 = chord_events(p.accomp);
    int e2 = ev2.empty() ? 0 : ev2.back().start + ev2.back().len;
    if (e2 < end) ev2.push_back({e2, end - e2, {}, {}, {}, ""});
    write_part(o, "P2", layout(ev2, p, true, false), m, p, false, {});
  }
  o << "</score-partwise>\n";
  return o.str();
}

}  // namespace tunesmith
