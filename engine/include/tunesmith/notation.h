// File writers for melodies: Standard MIDI File, ABC with lyrics (w:), MusicXML with lyrics, all
// from one Melody (the same shape as a docs/melody-data.md record: MIDI pitches, times in quarter
// notes on a 1/12 grid, syllables with a trailing "-" when the word continues).
//
//   tunesmith::Melody m;
//   m.title = "Tune"; m.key_fifths = 1; m.meter_num = 3; m.pickup = 1;
//   m.notes = {{62, 0, 1, 80, "a-"}, {67, 1, 2, 80, "way"}, {-1, 3, 1}};
//   m.chords = {{1, "G"}};
//   std::string smf = tunesmith::write_midi(m);     // bytes
//   std::string abc = tunesmith::write_abc(m);      // "X:1\nT:Tune\nM:3/4\nL:1/8\n..."
//   std::string xml = tunesmith::write_musicxml(m);
//
// Every writer validates first and throws tunesmith::Error "invalid_field" (with {"field"}) on
// impossible input: a duration <= 0, a start < 0, a time off the 1/12 grid, melody notes unsorted
// or overlapping, a pitch outside 0..127 (-1 = rest), a meter denominator that is not a power of
// two (1..64), a bar not a whole number of 1/12 steps, a pickup outside [0, bar), a key outside
// -7..7, a tempo <= 0.
//
// Notation (ABC and MusicXML): bars start at pickup + k * bar; notes are split at bar lines and
// tied; lengths are decomposed into plain or dotted values (whole .. 32nd) joined by ties; a beat
// (quarter, from the bar's start) holding a boundary off the 1/16 grid is written as a 3:2 triplet
// group; notes are also split (and tied) at chord-symbol times so a symbol always sits on a note.
// Gaps between notes become rests. Pure functions, safe from any thread.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace tunesmith {

struct MelodyNote {
  int pitch = -1;         // MIDI number 0..127, -1 = rest
  double start = 0;       // quarter notes from the start (multiples of 1/12)
  double duration = 0;    // quarter notes, > 0
  int velocity = 80;      // 1..127 (clamped in MIDI)
  std::string syllable;   // "" = none; "hal-" = the word continues on the next syllable
};

struct Melody {
  std::vector<MelodyNote> notes;          // sorted by start, monophonic
  std::string title;
  int key_fifths = 0;                     // key signature -7..7
  bool minor = false;
  int meter_num = 4, meter_den = 4;
  double tempo_qpm = 120;                 // quarter notes per minute
  double pickup = 0;                      // anacrusis length in quarter notes (0 = none)
  std::vector<std::pair<double, std::string>> chords;  // (start, symbol: "G", "D7", "F#m7b5", "C/E")
  std::vector<MelodyNote> accompaniment;  // optional second part, may be polyphonic
};

// SMF type 1, 480 ppq. Track 0: track name (title), tempo, time and key signature. Track 1: the
// melody (channel 0), a lyric meta event (0x05) just before the note-on of each note with a
// syllable. Track 2 (channel 1) only when there is an accompaniment. Returns the file's bytes.
std::string write_midi(const Melody& m);

// ABC 2.1: X: T: M: L:1/8 (1/16 when the meter is below 3/4) Q:1/4=N K:, four bars a line (never
// breaking inside a tie), each
// line followed by a w: line (syllables; "*" no syllable, "_" a tied continuation, "|" bars).
// The accompaniment is not written.
std::string write_abc(const Melody& m);

// MusicXML 4.0 score-partwise, divisions 12: P1 the melody (lyrics, <harmony>, pickup as an
// implicit measure 0, the last measure filled with a rest), P2 the accompaniment when present
// (simultaneous pitches as <chord/>s; overlapping notes are split and tied).
std::string write_musicxml(const Melody& m);

}  // namespace tunesmith
