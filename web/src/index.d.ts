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
export interface LineEvent { event: 'line'; index: number; text: string }
export type EngineEvent = TokenEvent | LineEvent | { event: string; [k: string]: unknown };

/** Friendly names for generate_lyrics fields; any other request field may be given under its own name. */
export interface LyricsOptions {
  /** -> song_title (required, 1..200 characters). */
  title: string;
  /** -> song_style, e.g. '流行音乐', 'rock', 'hymn'. */
  style?: string;
  /** -> lyrics_length (1..200, default 8). */
  lines?: number;
  /** -> language ('zh' | 'en'; detected from the title when absent). */
  lang?: 'zh' | 'en';
  /** 0 .. 2^53-1; the same seed gives the same lyrics. Random when absent. */
  seed?: number;
  /** 0..2 (default: the model manifest's generation.temperature, 0.6 for the shipped models). */
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  [field: string]: unknown;
}

export interface LyricsResponse {
  lyrics: string;
  lines: Array<{ text: string; [k: string]: unknown }>;
  language: 'zh' | 'en' | string;
  seed: number;
  style?: Record<string, unknown>;
  model?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface LyricsHandlers {
  onLine?: (event: LineEvent) => void;
  onToken?: (event: TokenEvent) => void;
  onEvent?: (event: EngineEvent) => void;
}

export type StreamItem = LineEvent | { event: 'done'; response: LyricsResponse };

export interface Engine {
  readonly info: Readonly<BuildInfo>;
  /** Same object as `info`. */
  readonly build: Readonly<BuildInfo>;
  /** Any request object (`{task: ...}`), or JSON text sent verbatim. Error responses reject with TunesmithError. */
  request<T = Record<string, unknown>>(request: object | string, onEvent?: (event: EngineEvent) => void): Promise<T>;
  /** Resolves the raw response, error responses included. */
  requestRaw<T = Record<string, unknown>>(request: object | string, onEvent?: (event: EngineEvent) => void): Promise<T | ErrorResponse>;
  generateLyrics(options: LyricsOptions, handlers?: LyricsHandlers): Promise<LyricsResponse>;
  /** Each line as it is written, then {event: 'done', response}. */
  streamLyrics(options: LyricsOptions): AsyncGenerator<StreamItem, void, undefined>;
  /** Ends the worker / the pthread pool. Idempotent. */
  close(): Promise<void>;
}

/** Builds the generate_lyrics request object that generateLyrics sends. */
export function lyricsRequest(options: LyricsOptions): Record<string, unknown> & { task: 'generate_lyrics' };

export function createEngine(options?: EngineOptions): Promise<Engine>;
export default createEngine;
