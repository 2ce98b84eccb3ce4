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
  /** e.g. 'bad_request' | 'unknown_task' | 'invalid_field' | 'missing_field' | 'model_not_loaded' | 'model_not_found' | 'model_invalid' | 'internal' | 'worker_failed' | 'closed' | 'usage'. */
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
  /** -> song_title (required, 1..200 characters). */
  title: string;
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

export interface LyricsHandlers {
  /** A final line (repeated chorus lines included). */
  onLine?: (event: LineEvent) => void;
  /** Chinese: one character; English: a word with the separator after it. */
  onToken?: (event: TokenEvent) => void;
  /** Drop the partial line: the tokens since the last line event are void. */
  onLineReset?: (event: LineResetEvent) => void;
  onEvent?: (event: EngineEvent) => void;
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
  request<T = Record<string, unknown>>(request: object | string, onEvent?: (event: EngineEvent) => void): Promise<T>;
  /** Resolves the raw response, error responses included. */
  requestRaw<T = Record<string, unknown>>(request: object | string, onEvent?: (event: EngineEvent) => void): Promise<T | ErrorResponse>;
  generateLyrics(options: LyricsOptions, handlers?: LyricsHandlers): Promise<LyricsResponse>;
  /** edit_lyrics: rewrite one line, every unlocked line, or continue the song. */
  editLyrics(options: EditOptions, handlers?: LyricsHandlers): Promise<EditResponse>;
  /** generate_title: title candidates for lyrics or a theme, best first. */
  generateTitle(options: TitleOptions): Promise<TitleResponse>;
  /** analyze_lyrics: mood and valence per line and for the whole song. */
  analyzeLyrics(options: AnalyzeOptions): Promise<AnalyzeResponse>;
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
