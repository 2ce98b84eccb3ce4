// TypeScript declarations for tunesmith's JS API (web/src/index.mjs).

export interface ProgressInfo {
  /** Model name, e.g. "lyrics-zh". */
  model: string;
  /** Bytes of the .onnx file received so far. */
  loaded: number;
  /** Expected size in bytes (from the manifest), or 0 when unknown. */
  total: number;
}

export interface EngineOptions {
  /** Compute threads for the threaded build: 'auto' (default) = min(max_threads, cores / 2). */
  threads?: 'auto' | number;
  /** Where `<name>.json` and `<name>.onnx` live. URL, or a directory path in Node. Default: the package's models/. */
  modelBaseUrl?: string | URL;
  /** Where tunesmith-{st,mt}.{mjs,wasm} live. URL, or a directory path in Node. Default: the package's dist/wasm/. */
  wasmBaseUrl?: string | URL;
  /** Called while a model downloads (first request that needs it). */
  onProgress?: (progress: ProgressInfo) => void;
  /** Run the engine in a worker: default true in browsers (module Web Worker), false in Node (in-process; true = worker_threads). */
  worker?: boolean;
  /** Force a build. Default: 'mt' in Node and in cross-origin isolated pages, else 'st'. */
  variant?: 'mt' | 'st';
  /**
   * Browsers: remember (in Cache Storage) which models this origin's engine loaded, and have the
   * next engine read and load them while its wasm starts, before its first request. Default true;
   * false loads every model only when a request first needs it. No effect in Node.
   */
  warmStart?: boolean;
}

export interface BuildInfo {
  version: string;
  /** 'mt': SIMD + pthreads; 'st': SIMD, single thread. */
  variant: 'mt' | 'st';
  simd: boolean;
  /** Compute threads in use (1 for 'st'). */
  threads: number;
  /** Most threads the build can use. */
  maxThreads: number;
  /** Whether the page (or process) is cross-origin isolated; decides 'mt' vs 'st' in browsers. */
  crossOriginIsolated: boolean;
}

/** The engine's error object: {code, message} plus details such as `model` or `field`. */
export interface EngineErrorObject {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export interface ErrorResponse { error: EngineErrorObject }

export class TunesmithError extends Error {
  constructor(error: EngineErrorObject);
  name: 'TunesmithError';
  /** e.g. 'aborted' (an AbortSignal fired) | 'bad_request' | 'unknown_task' | 'invalid_field' | 'missing_field' | 'invalid_audio' | 'model_not_loaded' | 'model_not_found' | 'model_invalid' | 'out_of_memory' | 'internal' | 'worker_failed' | 'closed' | 'unsupported' | 'usage'. */
  code: string;
  error: EngineErrorObject;
}

export interface TokenEvent { event: 'token'; text: string }
export interface LineEvent {
  event: 'line';
  index: number;
  text: string;
  /** Section name ('verse', 'chorus', ...) and label ('Verse 1') of the line. */
  section?: SectionName;
  label?: string;
  /** Index of the line a repeated chorus line copies, else null. */
  repeat_of?: number | null;
}
/** The decoder abandoned line `index`: the tokens streamed since the last line event are void. */
export interface LineResetEvent { event: 'line_reset'; index: number }
export type EngineEvent = TokenEvent | LineEvent | LineResetEvent | { event: string; [k: string]: unknown };

/** Canonical section names; requests also accept I V P PC C B O H and the Chinese names (docs/lyrics-controls.md). */
export type SectionName = 'intro' | 'verse' | 'pre-chorus' | 'chorus' | 'bridge' | 'outro' | 'hook' | (string & {});
/** Canonical moods; requests also accept 快乐 悲伤 温柔 倔强 平静 and a few synonyms. */
export type Mood = 'happy' | 'sad' | 'tender' | 'defiant' | 'calm';

/** One section in an array `structure`. */
export interface StructureItem {
  /** 'verse', 'V', 'chorus', 'C', '副歌', ... optionally with a line count: 'V4', 'verse:4'. */
  section: string;
  /** 1..32; default by section (intro 2, verse 4, pre-chorus 2, chorus 4, bridge 4, outro 2, hook 2). */
  lines?: number;
  /** e.g. 'ABAB'; '' = unrhymed. */
  rhyme_scheme?: string;
  /** Target per line (2..24): one number, or one per line of the section. */
  syllables?: number | number[];
}

/** The songwriting controls shared by generate_lyrics and edit_lyrics (docs/lyrics-controls.md). */
export interface SongControls {
  /** Sections in order: 'V C V C B C', 'V4 C4 B2 C4', 'verse:4 chorus', or an array of tokens / objects. */
  structure?: string | Array<string | StructureItem>;
  /** Later choruses (and hooks) repeat the first verbatim (default) or keep its first and last lines and rewrite the rest. */
  chorus?: 'repeat' | 'vary';
  /** 'AABB' | 'ABAB' | 'ABCB' | 'AAAA' ... (X or - = unrhymed line), for every section or by section name. */
  rhyme_scheme?: string | Partial<Record<string, string>>;
  /** Syllables (Chinese: characters) per line, 2..24: for every line, one per line of the song, or by section name. */
  syllables?: number | number[] | Partial<Record<string, number | number[]>>;
  mood?: Mood | (string & {});
  /** Up to 8 words or phrases that must appear, in the song's language and script. */
  keywords?: string[];
  /** Up to 64 words or phrases that must not appear. */
  avoid?: string[];
  /** Block runs copied from the training text while decoding (default true). */
  originality?: boolean;
}

/** Fields shared by generateLyrics and editLyrics options (friendly names map to request fields). */
export interface LyricsFields extends SongControls {
  /** -> song_style, e.g. '流行音乐', 'rock', 'hymn'. */
  style?: string;
  /** -> language ('zh' | 'en'; detected from the title when absent). */
  lang?: 'zh' | 'en';
  /** 0 .. 2^53-1; the same seed gives the same lyrics. Random when absent. */
  seed?: number;
  /** 0..2 (default: the model manifest's generation.temperature, 0.6 for the shipped models). */
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
}

/** Friendly names for generate_lyrics fields; any other request field may be given under its own name. */
export interface LyricsOptions extends LyricsFields {
  /** -> song_title (1..200 characters; this or song_title is required). */
  title?: string;
  /** The request field itself (same as title). */
  song_title?: string;
  /** The request field itself (same as style). */
  song_style?: string;
  /** The request field itself (same as lines). */
  lyrics_length?: number;
  /** Same as handlers.signal (LyricsHandlers). */
  signal?: AbortSignal;
  /** -> lyrics_length (1..200, default 8); with `structure` it must equal the structure's total if given. */
  lines?: number;
  [field: string]: unknown;
}

export interface RhymeInfo {
  /** The letter of the rhyme class in its section's scheme. */
  class: string;
  /** 十三辙 group name (Chinese, e.g. '江阳') or the CMUdict rhyme key (English, e.g. 'AY1 T'). */
  key: string;
}

export interface LyricsLine {
  index: number;
  text: string;
  /** Characters of the text. */
  chars: number;
  section?: SectionName;
  /** Index of the line's section in `sections`. */
  section_index?: number;
  /** 'Verse 1', 'Chorus 2', ... */
  label?: string;
  line_in_section?: number;
  /** The line's own count (characters for Chinese, CMUdict syllables for English). */
  syllables?: number;
  /** The planned count, or null when the line had none. */
  target_syllables?: number | null;
  /** null for an unrhymed line. */
  rhyme?: RhymeInfo | null;
  /** Index of the line a repeated chorus line copies, else null. */
  repeat_of?: number | null;
  [k: string]: unknown;
}

export interface SectionInfo {
  section: SectionName;
  label: string;
  /** Index of its first line. */
  start: number;
  lines: number;
  rhyme_scheme: string | null;
  /** Target per line (0 = none). */
  syllables: number[];
  /** Label of the section this one repeats ('Chorus 1'). */
  repeats?: string;
}

export interface Constraints {
  rhyme_pairs: { required: number; met: number };
  syllables: { required: number; met: number };
  keywords: { required: string[]; placed: Array<{ keyword: string; line: number }>; missing?: string[] };
  avoid?: { words: string[]; present: string[] };
  /** Computed on the final text. */
  all_met: boolean;
}

export interface OriginalityInfo {
  enabled: boolean;
  /** 'char' (Chinese) or 'word' (English). */
  unit: 'char' | 'word' | string;
  /** Run length that is blocked: 8 characters or 6 words. */
  n: number;
  blocked?: number;
  blocked_candidates?: number;
}

export interface LyricsResponse {
  task?: 'generate_lyrics' | 'edit_lyrics';
  title?: string;
  lyrics: string;
  lines: LyricsLine[];
  sections?: SectionInfo[];
  language: 'zh' | 'en' | string;
  seed: number;
  temperature?: number;
  style?: { requested: string; used: string; label: string; matched_by: string; [k: string]: unknown };
  model?: { name: string; version: string; sha256: string };
  mood?: { requested?: string; used: string } | null;
  constraints?: Constraints;
  /** Constraints given up on a line and why. */
  relaxations?: string[];
  originality?: OriginalityInfo;
  /** Planning decisions (drawn line lengths, cut schemes, an unknown style...). */
  notes?: string[];
  backtracks?: number;
  line_restarts?: number;
  sampler?: string;
  [k: string]: unknown;
}

export interface EditResponse extends LyricsResponse {
  /** Indices of the lines rewritten (repeats of rewritten chorus lines included). */
  edited: number[];
}

export type EditAction = 'regenerate_line' | 'regenerate_unlocked' | 'continue';

/** edit_lyrics: the song's plan (as for generateLyrics), its lines, and what to do. */
export interface EditOptions extends LyricsFields {
  /** -> song_title; required unless `song` is given. */
  title?: string;
  /** A previous generate_lyrics / edit_lyrics response: supplies the plan (songPlan) and `lines`; other options override. */
  song?: LyricsResponse;
  /** The song as it is now (strings or line objects), one per planned line; required unless `song` is given. */
  lines?: Array<string | { text: string }>;
  action: EditAction;
  /** regenerate_line: the index to rewrite (a chorus line changes in every repeat). */
  line?: number;
  /** regenerate_unlocked: indices kept as they are. */
  locked?: number[];
  /** continue: sections to add, same syntax as `structure` (default 'V'). */
  append?: string | Array<string | StructureItem>;
  [field: string]: unknown;
}

export interface TitleOptions {
  /** The lyrics (text, lines, or a song response); or give `theme`. */
  lyrics?: string | Array<string | { text: string }> | LyricsResponse;
  /** A theme the model writes a short song on first. */
  theme?: string;
  /** 1..10, default 5. */
  count?: number;
  /** -> language */
  lang?: 'zh' | 'en';
  /** -> song_style */
  style?: string;
  seed?: number;
  [field: string]: unknown;
}

export interface TitleResponse {
  titles: Array<{ title: string; score: number; source_line: number }>;
  language: 'zh' | 'en' | string;
  seed?: number;
  /** With `theme`: the song the titles were taken from. */
  lyrics_from_theme?: string;
  [k: string]: unknown;
}

export interface AnalyzeOptions {
  lyrics: string | Array<string | { text: string }> | LyricsResponse;
  /** -> language */
  lang?: 'zh' | 'en';
  [field: string]: unknown;
}

export type MoodLabel = Mood | 'neutral';
export interface MoodWord { word: string; weight: number; mood?: string; count?: number }
export interface AnalyzeResponse {
  language: 'zh' | 'en' | string;
  lines: Array<{ index: number; text: string; valence: number; label: MoodLabel; confidence: number; words: MoodWord[] }>;
  overall: { valence: number; label: MoodLabel; confidence: number; words: MoodWord[]; scores?: Record<string, number> };
  [k: string]: unknown;
}

// ------------------------------------------------------------------------------------ melody
// docs/melody-api.md. Times are in beats (a beat = a quarter note, whatever the meter), multiples of
// 1/12 beat; pitches are MIDI numbers (C4 = 60).

export type MelodyMode = 'major' | 'minor' | 'dorian' | 'mixolydian' | 'lydian' | 'phrygian' | 'locrian';
export type MelodyMeter = '2/4' | '3/4' | '4/4' | '2/2' | '3/8' | '6/8' | '9/8' | '12/8' | '6/4' | '3/2';
/** Tune types; requests also accept the aliases chorale, ballad, pop, folk, 歌曲, 流行, 'slip jig'. */
export type MelodyStyle = 'jig' | 'reel' | 'hornpipe' | 'waltz' | 'polka' | 'march' | 'slip_jig' | 'air' | 'hymn' | 'song';
export type Accompaniment = 'none' | 'block' | 'arpeggio' | 'pattern';

/** Lyrics to set: text (lines separated by \n), lines, the `lines` of a lyrics response, or the response itself. */
export type MelodyLyrics = string | Array<string | { text: string; repeat_of?: number | null; section?: string | null }> | LyricsResponse;

/** The generate_melody fields that edit_melody also takes with any action. */
export interface MelodySettings {
  /** 0 .. 2^53-1; same request + seed, same melody. Random when absent. */
  seed?: number;
  /** 0..2 (default 0.9). */
  temperature?: number;
  /** Highest minus lowest note in semitones, 7..24 (default 16). */
  range?: number;
  /** Allow notes outside the mode (default false). */
  chromatic?: boolean;
  /** Second MIDI track / MusicXML part from the chords (default 'none'). */
  accompaniment?: Accompaniment | (string & {});
  /** Written into the files (default: the lyrics' first line or "Melody"). */
  title?: string;
}

export interface MelodyOptions extends MelodySettings {
  /** Cancels the call, as LyricsHandlers.signal does. */
  signal?: AbortSignal;
  /** Words to set, one phrase per line; a lyrics response sends its lines (text, repeat_of, section). */
  lyrics?: MelodyLyrics;
  /** Tonic: 'C', 'F#', 'Bb', ... (default 'C'). */
  key?: string;
  mode?: MelodyMode | (string & {});
  /** Default: from the style. */
  meter?: MelodyMeter | (string & {});
  /** Quarter notes per minute, 30..300 (default: from the style). */
  tempo?: number;
  style?: MelodyStyle | (string & {});
  /** 1..256: total length (default 16 without lyrics; with lyrics from the syllable counts, at least one bar a line). */
  bars?: number;
  /** Allow a syllable to take two notes (default false). */
  melisma?: boolean;
  [field: string]: unknown;
}

export interface MelodyNote {
  pitch: number;
  /** Beats from the start. */
  start: number;
  duration: number;
  velocity: number;
  /** 0-based bar index. */
  bar?: number;
  /** The syllable sung on this note ('riv-': the word goes on); absent on notes without one. */
  syllable?: string;
  /** Index of the lyrics line the syllable belongs to. */
  line?: number;
  /** English: 1 primary-stressed, 0 not; absent for monosyllabic function words. */
  stress?: number;
  /** Mandarin tone 0..4. */
  tone?: number;
  /** A continuation note of a melisma (no syllable). */
  melisma?: boolean;
  [k: string]: unknown;
}

export interface MelodyChord {
  start: number;
  duration: number;
  /** 'G', 'D7', 'F#m7b5', 'C/E', ... */
  symbol: string;
  /** 'I', 'V7', 'vi', ... */
  roman?: string;
}

export interface MelodyPhrase {
  line: number;
  text: string;
  first_bar: number;
  bars: number;
  /** [first, last] note indices of the phrase. */
  notes: [number, number] | number[];
  cadence?: string;
}

export interface MelodyChecks {
  /** Share of notes in the mode (1 when chromatic is off). */
  in_key: number;
  /** Share of syllables with exactly one note. */
  alignment: number;
  /** Share of phrase-final notes on degree 1, 3 or 5. */
  cadence: number;
  /** Share of stressed English syllables on a beat (null when not applicable). */
  stress: number | null;
  /** Share of Mandarin tone rules held (null when not applicable). */
  tones: number | null;
  /** Highest minus lowest note, semitones. */
  range: number;
  /** Largest leap, semitones. */
  max_leap: number;
  [k: string]: unknown;
}

export interface MelodyResponse {
  task?: 'generate_melody' | 'edit_melody';
  seed: number;
  style: MelodyStyle | string;
  key: { tonic: string; mode: MelodyMode | string; fifths: number };
  meter: MelodyMeter | string;
  tempo: number;
  bars: number;
  /** Quarter-note beats in a bar (3 in 6/8). */
  beats_per_bar: number;
  /** The melody; rests are not listed (gaps between notes are rests). */
  notes: MelodyNote[];
  /** One per half bar (4/4, 2/2, 12/8, 6/4) or bar (other meters). */
  chords: MelodyChord[];
  phrases?: MelodyPhrase[];
  /** Present when an accompaniment was asked for. */
  accompaniment?: Array<{ pitch: number; start: number; duration: number; velocity: number }>;
  checks: MelodyChecks;
  /** Constraints the decoder had to drop at some step. */
  relaxations: Array<{ rule: string; note: number | string; [k: string]: unknown }>;
  /** What was not sung (digits, punctuation, emoji), skipped lines, ... */
  remarks: string[];
  /** ABC 2.1 with w: lyrics. */
  abc: string;
  /** MusicXML 4.0 (score-partwise). */
  musicxml: string;
  /** Base64 of a type-1 Standard MIDI File (midiBytes() decodes it). */
  midi: string;
  [k: string]: unknown;
}

export type MelodyEditAction = 'continue' | 'regenerate_bars' | 'transpose' | 'change_mode' | 'restyle' | 'accompany';

export interface MelodyEditOptions extends MelodySettings {
  /** continue: bars to append (default 4). */
  bars?: number;
  /** continue: new lines to set. */
  lyrics?: MelodyLyrics;
  /** regenerate_bars: first and last bar (0-based, inclusive). */
  from?: number;
  to?: number;
  /** transpose: -24..24 (or give `key`). */
  semitones?: number;
  /** transpose: the new tonic. */
  key?: string;
  /** change_mode: the parallel mode. */
  mode?: MelodyMode | (string & {});
  /** restyle: the new style, optionally meter and tempo. */
  style?: MelodyStyle | (string & {});
  meter?: MelodyMeter | (string & {});
  tempo?: number;
  [field: string]: unknown;
}

/** The melody an edit starts from: a melody response, or at least its notes, key, meter, tempo, style. */
export type MelodyInput = MelodyResponse | (Partial<MelodyResponse> & Pick<MelodyResponse, 'notes'>);

export interface RenderMelodyOptions {
  /** A melody response: supplies notes, key (tonic, mode), meter, tempo, chords, accompaniment, title. */
  melody?: MelodyInput;
  notes?: Array<Pick<MelodyNote, 'pitch' | 'start' | 'duration'> & Partial<MelodyNote>>;
  /** Tonic, as for generate_melody. */
  key?: string;
  mode?: MelodyMode | (string & {});
  meter?: MelodyMeter | (string & {});
  tempo?: number;
  chords?: MelodyChord[];
  accompaniment?: Array<{ pitch: number; start: number; duration: number; velocity?: number }>;
  title?: string;
  [field: string]: unknown;
}

export interface RenderMelodyResponse {
  abc: string;
  musicxml: string;
  /** Base64 of a Standard MIDI File. */
  midi: string;
  [k: string]: unknown;
}

/** Builds the generate_melody request object that generateMelody sends. */
export function melodyRequest(options: MelodyOptions): Record<string, unknown> & { task: 'generate_melody' };
/** Builds the edit_melody request object that editMelody sends (the melody goes without its abc/musicxml/midi). */
export function editMelodyRequest(melody: MelodyInput, action: MelodyEditAction, options?: MelodyEditOptions): Record<string, unknown> & { task: 'edit_melody' };
/** Builds the render_melody request object that renderMelody sends. */
export function renderMelodyRequest(options: RenderMelodyOptions): Record<string, unknown> & { task: 'render_melody' };
/** Decodes a melody response's `midi` (or base64 text) to the bytes of the Standard MIDI File. */
export function midiBytes(melody: { midi: string } | string): Uint8Array;

// ------------------------------------------------------------------------------------ listening
// analyze_audio (docs/listen-api.md; engine/src/listen.cpp).

/** Decoded audio, as WebAudio's AudioBuffer gives it (decodeAudioFile's result qualifies). */
export interface AudioBufferLike {
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  getChannelData(channel: number): Float32Array;
}

/** Decoded PCM: one Float32Array per channel, or one interleaved Float32Array with numberOfChannels (default 1). Samples in -1..1. */
export type PcmInput =
  | { channels: ArrayLike<number>[]; sampleRate: number; numberOfChannels?: number }
  | { channels: Float32Array; sampleRate: number; numberOfChannels?: number };

/** What analyzeAudio reads: a WAV file's bytes (sent as they are, format 'wav') or decoded audio (interleaved to float32, format 'f32'). */
export type AudioInput = ArrayBuffer | ArrayBufferView | Blob | AudioBufferLike | PcmInput;

export interface AudioProgressEvent { event: 'progress'; /** 0..1, in steps of about 5% (only when the length is known). */ fraction: number }

export interface AnalyzeAudioFields {
  /** Length of a timeline segment in seconds, 1..60 (default 4). */
  segment_seconds?: number;
  /** Most beat times listed in tempo.beats, 0..100000 (default 2000); tempo.beat_count counts them all. */
  max_beats?: number;
  /** Include the chroma and mel pictures (default true). */
  pictures?: boolean;
  /** Echoed in source.name (e.g. the file's name). */
  name?: string;
  /** Run the style/instrument classifier (default true; it loads models/listen.* on first use). */
  classify?: boolean;
  [field: string]: unknown;
}

export interface AnalyzeAudioOptions extends AnalyzeAudioFields {
  /** Called with each {event: 'progress', fraction}. */
  onProgress?: (event: AudioProgressEvent) => void;
  /** Every event of the request. */
  onEvent?: (event: EngineEvent) => void;
  /**
   * With a worker (browsers' default): transfer the ArrayBuffer of WAV bytes or of an interleaved
   * Float32Array to it, no copy (default true; it becomes detached on the caller's side). false:
   * copy them. Channel arrays and AudioBuffers are interleaved into a new buffer, always transferred.
   */
  transfer?: boolean;
  /** Cancels the analysis between chunks (rejects with a TunesmithError, code 'aborted'). */
  signal?: AbortSignal;
  /**
   * Inputs larger than this (bytes; default AUDIO_CHUNK_BYTES, 8 MiB) are sent in chunks over an
   * analyze_audio session: a Blob/File is read slice by slice and decoded PCM interleaved chunk by
   * chunk, so memory stays bounded for hour-long files.
   */
  chunkBytes?: number;
}

/** The chunk size above which analyzeAudio streams its input (8 MiB). */
export const AUDIO_CHUNK_BYTES: number;

export interface KeyEvidence {
  method: string;
  /** The chroma profile, 12 values in chroma_order. */
  chroma: number[];
  chroma_order: string[];
  /** The five keys whose profiles correlate best with the chroma. */
  best_keys: Array<{ key: string; correlation: number }>;
  /** The chroma of the ending (the last segments), which also counts (weight ending_weight). */
  ending_chroma?: number[];
  ending_weight?: number;
}

export interface SegmentKey {
  tonic?: string;
  mode?: 'major' | 'minor';
  /** e.g. "C major", "F# minor"; null when nothing tonal was heard. */
  name: string | null;
  confidence: number;
}

export interface AudioKey extends SegmentKey {
  correlation?: number;
  /** Correlation of the best key minus the runner-up's. */
  margin?: number;
  evidence?: KeyEvidence;
  /** Tuning offset of the recording from A440, in cents. */
  tuning_cents: number;
}

export interface AudioTempo {
  /** null when no tempo was found (silence, too short). */
  bpm: number | null;
  confidence: number;
  /** Beat times in seconds (at most max_beats). */
  beats: number[];
  beat_count: number;
  evidence?: {
    method: string;
    candidates: Array<{ bpm: number; salience: number; score: number }>;
    half: { bpm: number; score: number };
    double: { bpm: number; score: number };
    /** The periodicity at the onset tempo times each metrical relative (1/3, 1/2, 2/3, 3/2, 2, 3). */
    related?: Array<{ ratio: number; bpm: number; salience: number; score: number }>;
    /** How the tempo was chosen among the onset tempo and its relatives (listening model). */
    octave?: {
      classifier_bpm: number; onset_bpm: number; switched: boolean;
      /** Listening model 1.2.0: every candidate weighed, its terms summing to its score; the best wins. */
      candidates?: Array<{ bpm: number; ratio: number; score: number;
        terms: { periodicity: number; style_range: number; tempo_head: number; rhythm_check: number; ratio_prior: number } }>;
      method?: string;
    };
  };
}

/** A label with its probability. */
export interface LabelP { label: string; p: number }

export interface AudioStyle {
  /** One of the model's classes (models/listen.json labels.style), e.g. 'rock', 'pop_ballad'. */
  label: string;
  confidence: number;
  /** Every class, most probable first. */
  probabilities: LabelP[];
  evidence: {
    method: string;
    patches: number;
    segments: Array<{ start: number; end: number; label: string; p: number }>;
    strongest_segments: Array<{ start: number; end: number; p: number }>;
    notes: string[];
    /** How often the style was right on the model's held-out test renders (its model card). */
    held_out?: { accuracy: number; clips: number; what: string };
  };
}

export interface AudioInstruments {
  /** The lead (melody) instrument's General MIDI family, or 'none'. */
  lead: { label: string; confidence: number; probabilities: LabelP[] };
  /** Every family (and drums), most probable first; present: p >= 0.5. */
  families: Array<LabelP & { present: boolean }>;
  evidence: {
    method: string; notes: string[];
    /** How often the lead family was right on the model's held-out test renders: read the lead as a hint. */
    held_out?: { lead_accuracy: number; clips: number; what: string };
  };
}

export type AudioMoodLabel = 'happy' | 'calm' | 'sad' | 'tense';

export interface AudioMood {
  label: AudioMoodLabel;
  /** -1..1. */
  valence: number;
  /** -1..1. */
  arousal: number;
  confidence: number;
  probabilities: Array<{ label: AudioMoodLabel; p: number }>;
  /** A documented rule-based estimate, not a trained model (docs/listen-api.md). */
  evidence: { method: string; contributions: Array<{ feature: string; value: unknown; valence: number; arousal: number }> };
}

export interface AudioLoudness {
  /** EBU R128 integrated loudness; null when silent (below -70 LUFS). */
  integrated_lufs: number | null;
  loudness_range_lu: number | null;
  momentary_max_lufs: number | null;
  short_term_max_lufs: number | null;
  sample_peak_dbfs: number | null;
  true_peak_dbtp: number | null;
  method: string;
}

export interface AudioSegment {
  /** Seconds. */
  start: number;
  end: number;
  key: SegmentKey;
  rms_db: number | null;
  loudness_max_lufs: number | null;
  onset_strength: number;
  style?: { label: string; confidence: number };
  lead?: { label: string; confidence: number };
  mood?: { label: AudioMoodLabel; valence: number; arousal: number };
}

/** A picture over the whole file: values 0..255 (range[0]..range[1]), column-major: values[c * rows + r]. */
export interface AudioPicture {
  rows: number;
  columns: number;
  seconds_per_column: number;
  range: [number, number];
  values: number[];
}

export interface AnalyzeAudioResponse {
  task: 'analyze_audio';
  /** Seconds. */
  duration: number;
  sample_rate: number;
  channels: number;
  source: {
    /** 'RIFF', 'RF64', ... for WAV; 'pcm' for float PCM. */
    container: string;
    encoding: 'pcm_u8' | 'pcm_s16' | 'pcm_s24' | 'pcm_s32' | 'float32' | 'float64';
    bits: number;
    name?: string;
  };
  key: AudioKey;
  tempo: AudioTempo;
  loudness: AudioLoudness;
  segments: AudioSegment[];
  /** The segments' actual length (whole analysis frames). */
  segment_seconds: number;
  /** e.g. clipping, NaN samples, a truncated file, shorter than 3 seconds, silence. */
  warnings: string[];
  style?: AudioStyle;
  instruments?: AudioInstruments;
  mood?: AudioMood;
  /** What the engine could not tell for this file, and why (e.g. silence, classify: false). */
  unavailable?: { style?: string; mood?: string; instruments?: string };
  /** Descriptor embedding (64 numbers, unit length) for similar_tracks. */
  embedding: number[];
  /** Echoed for session (chunked) requests. */
  session?: string;
  /** Absent with {pictures: false}. */
  pictures?: { chroma: AudioPicture; mel: AudioPicture };
}

/** The analyze_audio request and its data for an input, as analyzeAudio sends them; owned: data is a new buffer. */
export function analyzeAudioRequest(input: AudioInput, fields?: AnalyzeAudioFields): Promise<{ request: Record<string, unknown> & { task: 'analyze_audio' }; data: Uint8Array; owned: boolean }>;

/**
 * Pages only: decodes any file the browser can play (MP3, AAC, Ogg, FLAC, WAV) to an AudioBuffer with
 * WebAudio's decodeAudioData, resampled to `sampleRate` (default: the device's). Rejects with code
 * 'unsupported' in Node and in workers, 'invalid_audio' (reason 'decode_failed') for a file the
 * browser cannot decode. WAV files need no decoding: give analyzeAudio their bytes.
 */
export function decodeAudioFile(file: Blob | ArrayBuffer | ArrayBufferView, options?: { sampleRate?: number }): Promise<AudioBufferLike & { readonly length: number; readonly duration: number }>;

/** Options for request data: transfer the ArrayBuffer to the worker instead of copying it (default false). */
export interface RequestDataOptions { transfer?: boolean }

export interface LyricsHandlers {
  /** A final line (repeated chorus lines included). */
  onLine?: (event: LineEvent) => void;
  /** Chinese: one character; English: a word with the separator after it. */
  onToken?: (event: TokenEvent) => void;
  /** Drop the partial line: the tokens since the last line event are void. */
  onLineReset?: (event: LineResetEvent) => void;
  onEvent?: (event: EngineEvent) => void;
  /**
   * Cancels the call: it rejects with a TunesmithError (code 'aborted') before anything is sent, or
   * at once when the signal fires later. A request the engine has already queued or started still
   * runs to its end (a wasm call cannot be interrupted); its answer and later events are dropped.
   */
  signal?: AbortSignal;
}

export interface StreamOptions {
  /** Also yield token and line_reset events (default false: final lines only). */
  tokens?: boolean;
  /** Stream an edit (options are EditOptions) instead of a new song. */
  task?: 'generate_lyrics' | 'edit_lyrics';
}

export type StreamItem = LineEvent | TokenEvent | LineResetEvent | { event: 'done'; response: LyricsResponse };

export interface Engine {
  readonly info: Readonly<BuildInfo>;
  /** Same object as `info`. */
  readonly build: Readonly<BuildInfo>;
  /** Any request object (`{task: ...}`), or JSON text sent verbatim. Error responses reject with TunesmithError. */
  request<T = Record<string, unknown>>(request: object | string, onEvent?: ((event: EngineEvent) => void) | null, data?: ArrayBuffer | ArrayBufferView | null, options?: RequestDataOptions): Promise<T>;
  /** Resolves the raw response, error responses included. data: the bytes the task reads beside its JSON (analyze_audio). */
  requestRaw<T = Record<string, unknown>>(request: object | string, onEvent?: ((event: EngineEvent) => void) | null, data?: ArrayBuffer | ArrayBufferView | null, options?: RequestDataOptions): Promise<T | ErrorResponse>;
  generateLyrics(options: LyricsOptions, handlers?: LyricsHandlers): Promise<LyricsResponse>;
  /** edit_lyrics: rewrite one line, every unlocked line, or continue the song. */
  editLyrics(options: EditOptions, handlers?: LyricsHandlers): Promise<EditResponse>;
  /** generate_title: title candidates for lyrics or a theme, best first. */
  generateTitle(options: TitleOptions): Promise<TitleResponse>;
  /** analyze_lyrics: mood and valence per line and for the whole song. */
  analyzeLyrics(options: AnalyzeOptions): Promise<AnalyzeResponse>;
  /** generate_melody: a melody for lyrics (or `bars` without), with ABC, MusicXML and MIDI (docs/melody-api.md). */
  generateMelody(options: MelodyOptions): Promise<MelodyResponse>;
  /** edit_melody: continue, regenerate_bars, transpose, change_mode, restyle or accompany a melody. */
  editMelody(melody: MelodyInput, action: MelodyEditAction, options?: MelodyEditOptions): Promise<MelodyResponse>;
  /** render_melody: the writers alone, for notes edited by hand. */
  renderMelody(options: RenderMelodyOptions): Promise<RenderMelodyResponse>;
  /**
   * analyze_audio: key, tempo and beats, loudness, a timeline of segments and pictures of one piece
   * of audio. Bad audio rejects with code 'invalid_audio' (error.reason: 'empty', 'not_riff',
   * 'truncated_header', 'partial_frame', ...).
   */
  analyzeAudio(input: AudioInput, options?: AnalyzeAudioOptions): Promise<AnalyzeAudioResponse>;
  /** Each final line as it is written (plus tokens and line resets with {tokens: true}), then {event: 'done', response}. */
  streamLyrics(options: LyricsOptions | EditOptions, stream?: StreamOptions): AsyncGenerator<StreamItem, void, undefined>;
  /** Ends the worker / the pthread pool. Idempotent. */
  close(): Promise<void>;
}

/** Builds the generate_lyrics request object that generateLyrics sends. */
export function lyricsRequest(options: LyricsOptions): Record<string, unknown> & { task: 'generate_lyrics' };
/** Builds the edit_lyrics request object that editLyrics sends. */
export function editRequest(options: EditOptions): Record<string, unknown> & { task: 'edit_lyrics' };
/** Builds the generate_title request object that generateTitle sends. */
export function titleRequest(options: TitleOptions): Record<string, unknown> & { task: 'generate_title' };
/** Builds the analyze_lyrics request object that analyzeLyrics sends. */
export function analyzeRequest(options: AnalyzeOptions): Record<string, unknown> & { task: 'analyze_lyrics' };

/** A song's plan as request fields (song_title, song_style, language, temperature, structure, chorus, mood, keywords, avoid, originality). */
export interface SongPlan extends SongControls {
  song_title?: string;
  song_style?: string;
  language?: 'zh' | 'en' | string;
  temperature?: number;
  lyrics_length?: number;
  structure?: StructureItem[];
}
/** The plan of a generate_lyrics / edit_lyrics response, so an edit describes the same song (drawn line lengths included). */
export function songPlan(song: LyricsResponse): SongPlan;

export function createEngine(options?: EngineOptions): Promise<Engine>;
export default createEngine;
