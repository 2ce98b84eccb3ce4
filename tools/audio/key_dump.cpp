// Dumps the engine's key evidence of WAV files for tools/audio/fit_key_profiles.py: the same
// stream as analyze_audio (WAV decoder, mono mix, resampler to 22050 Hz, dsp::Analyzer with 4 s
// segments), then one JSON line per file with the whole-file key chroma, the tuning shift and,
// per segment, its time span, tonal frame count and key chroma (Analyzer::segment_key_chroma), the
// ending chroma (dsp::ending_key_chroma) and the keys the engine reports: "key" (dsp::estimate_key
// of the Analyzer, what analyze_audio uses) and "key_kk" (the old whole-file Krumhansl-Kessler).
//
// build (after the native build): see tools/audio/fit_key_profiles.py (it compiles this file)
// usage: key_dump FILE.wav...  > dump.jsonl
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "tunesmith/audio.h"
#include "tunesmith/dsp.h"

using namespace tunesmith;

int main(int argc, char** argv) {
  for (int a = 1; a < argc; ++a) {
    std::ifstream f(argv[a], std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    WavDecoder wav;
    wav.feed(bytes.data(), bytes.size());
    wav.finish();
    const int ch = wav.format().channels;
    Resampler rs(wav.format().sample_rate, dsp::kAnalysisRate);
    dsp::Analyzer an;
    std::vector<float> inter(8192 * (size_t)ch), mono(8192), res;
    for (;;) {
      const size_t got = wav.read_interleaved(inter.data(), 8192);
      if (!got) break;
      mix_to_mono(inter.data(), got, ch, mono.data());
      res.clear();
      rs.process(mono.data(), got, res);
      an.push(res.data(), res.size());
    }
    res.clear();
    rs.flush(res);
    an.push(res.data(), res.size());
    an.finish();
    std::printf("{\"file\":\"%s\",\"tuning\":%d,\"frames\":%lld,\"key_chroma\":[", argv[a], an.tuning_shift(),
                (long long)an.frames());
    const auto kc = an.key_chroma();
    for (int i = 0; i < 12; ++i) std::printf("%s%.9g", i ? "," : "", kc[i]);
    const auto ec = dsp::ending_key_chroma(an);
    std::printf("],\"ending_chroma\":[");
    for (int i = 0; i < 12; ++i) std::printf("%s%.9g", i ? "," : "", ec[i]);
    const dsp::KeyResult k = dsp::estimate_key(an);
    const dsp::KeyResult kk = dsp::estimate_key(kc.data(), dsp::KeyProfile::kKrumhanslKessler);
    std::printf("],\"key\":{\"index\":%d,\"score\":%.6f},\"key_kk\":{\"index\":%d,\"score\":%.6f}",
                k.tonic < 0 ? -1 : k.tonic + (k.minor ? 12 : 0), k.correlation,
                kk.tonic < 0 ? -1 : kk.tonic + (kk.minor ? 12 : 0), kk.correlation);
    std::printf(",\"segments\":[");
    const auto& ss = an.segments();
    for (size_t s = 0; s < ss.size(); ++s) {
      const auto sc = an.segment_key_chroma(s);
      std::printf("%s{\"t0\":%.4f,\"t1\":%.4f,\"tonal\":%lld,\"rms\":%.6g,\"kc\":[", s ? "," : "", ss[s].start_time,
                  ss[s].end_time, (long long)ss[s].tonal_frames, ss[s].rms_mean);
      for (int i = 0; i < 12; ++i) std::printf("%s%.9g", i ? "," : "", sc[i]);
      std::printf("]}");
    }
    std::printf("]}\n");
  }
  return 0;
}
