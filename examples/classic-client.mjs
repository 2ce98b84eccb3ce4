// The classic request to `tunesmith serve` (README "HTTP mode"): a form post, the lyrics printed.
// node examples/classic-client.mjs [URL] [TITLE] [STYLE] [LINES]
const [url = 'http://127.0.0.1:8787/', title = '我爱你', style = '流行音乐', lines = '8'] = process.argv.slice(2);
const res = await fetch(new URL('generate_lyrics', url), {
  method: 'POST',
  body: new URLSearchParams({ song_title: title, song_style: style, lyrics_length: lines }),
});
const answer = await res.json();
if (!res.ok) throw new Error(`HTTP ${res.status}: ${answer.error.code}: ${answer.error.message}`);
console.log(answer.lyrics);
