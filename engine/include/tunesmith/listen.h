// analyze_audio: key, tempo and beats, loudness, per-segment summaries and pictures of one audio
// file, with the evidence behind each answer (contract: docs/listen-api.md).
//
//   std::string wav = ...;                      // the file's bytes
//   engine.request(R"({"task":"analyze_audio"})", on_event, wav);
//   engine.request(R"({"task":"analyze_audio","format":"f32","sample_rate":44100,"channels":2})",
//                  on_event, pcm_bytes);        // interleaved float32 little-endian (WebAudio's output)
//
// One streaming pass with bounded memory: the WAV decoder hands blocks to the loudness meter (at
// the file's rate, per channel) and, mixed to mono and resampled to 22050 Hz, to the analysis
// front end (tunesmith/dsp.h). A 2-hour file keeps only per-frame onset/RMS floats and summaries.
#pragma once
#include <nlohmann/json.hpp>

#include "tunesmith/api.h"

namespace tunesmith {

nlohmann::json task_analyze_audio(Engine& eng, const nlohmann::json& req, const EventFn& on_event);
// Ranks tracks ({id, embedding} from analyze_audio) by cosine similarity to a query embedding.
nlohmann::json task_similar_tracks(Engine& eng, const nlohmann::json& req, const EventFn& on_event);
// The classifier's outputs for one 64 x 128 log-mel patch (a reference check against ONNX Runtime).
nlohmann::json task_classify_patch(Engine& eng, const nlohmann::json& req, const EventFn& on_event);

}  // namespace tunesmith
