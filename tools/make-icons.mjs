#!/usr/bin/env node
// Draws the app's icons (web/icons/): an eighth note on the page's accent red, as SVG and as PNGs
// (192, 512 and a maskable 512 with the safe-zone margin), with no dependency (zlib only).
//   node tools/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'icons');
const BG = [0xb4, 0x37, 0x2f], FG = [0xff, 0xff, 0xff];

// The note in a 0..1 box: a tilted oval head, a stem and a flag.
function inNote(x, y) {
  const hx = 0.42, hy = 0.70, a = -0.45, rx = 0.13, ry = 0.09;
  const dx = x - hx, dy = y - hy, c = Math.cos(a), s = Math.sin(a);
  const u = (dx * c - dy * s) / rx, v = (dx * s + dy * c) / ry;
  if (u * u + v * v <= 1) return true;
  if (x >= 0.515 && x <= 0.555 && y >= 0.22 && y <= 0.68) return true;                 // stem
  const t = (y - 0.22) / 0.26;                                                         // flag
  if (t >= 0 && t <= 1) { const x0 = 0.535 + 0.17 * Math.sin(t * Math.PI * 0.9); if (x >= 0.535 && x <= x0 && y <= 0.22 + 0.26 * Math.min(1, (x - 0.535) / 0.17 + 0.55)) return true; }
  return false;
}

function png(size, margin, round) {
  const rows = [];
  const S = 4; // 4x4 supersampling
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let px = 0; px < size; px++) {
      let fg = 0, inside = 0;
      for (let sy = 0; sy < S; sy++) for (let sx = 0; sx < S; sx++) {
        const x = (px + (sx + 0.5) / S) / size, y = (py + (sy + 0.5) / S) / size;
        const r = round ? 0.2 : 0; // rounded square for the plain icons, full bleed for maskable
        const qx = Math.max(r - x, 0, x - (1 - r)), qy = Math.max(r - y, 0, y - (1 - r));
        if (qx * qx + qy * qy > r * r) continue;
        inside++;
        const nx = (x - margin) / (1 - 2 * margin), ny = (y - margin) / (1 - 2 * margin);
        if (inNote(nx, ny)) fg++;
      }
      const n = S * S, a = inside / n, f = inside ? fg / inside : 0;
      for (let c = 0; c < 3; c++) row[1 + px * 4 + c] = Math.round(BG[c] * (1 - f) + FG[c] * f);
      row[1 + px * 4 + 3] = Math.round(255 * a);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <rect width="100" height="100" rx="20" fill="#b4372f"/>
  <g transform="translate(10 10) scale(.8)" fill="#fff">
    <ellipse cx="42" cy="70" rx="13" ry="9" transform="rotate(-26 42 70)"/>
    <rect x="51.5" y="22" width="4" height="46"/>
    <path d="M53.5 22c2 10 17 14 15 28-1-8-7-12-15-13z"/>
  </g>
</svg>
`;
fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 'icon.svg'), svg);
fs.writeFileSync(path.join(OUT, 'icon-192.png'), png(192, 0.1, true));
fs.writeFileSync(path.join(OUT, 'icon-512.png'), png(512, 0.1, true));
fs.writeFileSync(path.join(OUT, 'icon-maskable-512.png'), png(512, 0.2, false));
console.log(`icons written to ${OUT}`);
