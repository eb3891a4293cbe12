/**
 * A small SVG chart of predicted time and cost against workers, one line per variant (with and
 * without speculation and hedged reads). Written by hand (about fifty lines of SVG) rather than
 * pulling a charting library into the CLI: two panels, log-free axes, a legend. An `.html` path
 * wraps the SVG and the table in a page.
 */
import type { SummaryRow } from "./sweep.js";

const W = 420;
const H = 260;
const PAD = { l: 60, r: 20, t: 30, b: 40 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

function panel(rows: SummaryRow[], value: (r: SummaryRow) => number | undefined, title: string, unit: string, x0: number): string {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const xs = [...new Set(rows.map((r) => r.workers))].sort((a, b) => a - b);
  const vals = rows.map(value).filter((v): v is number => v !== undefined);
  const maxY = Math.max(1e-9, ...vals) * 1.1;
  const minX = xs[0] ?? 0;
  const maxX = xs[xs.length - 1] ?? 1;
  const sx = (x: number) => x0 + PAD.l + ((x - minX) / Math.max(1, maxX - minX)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => PAD.t + (1 - y / maxY) * (H - PAD.t - PAD.b);
  const out: string[] = [`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  out.push(`<line x1="${x0 + PAD.l}" y1="${H - PAD.b}" x2="${x0 + W - PAD.r}" y2="${H - PAD.b}" stroke="#000"/><line x1="${x0 + PAD.l}" y1="${PAD.t}" x2="${x0 + PAD.l}" y2="${H - PAD.b}" stroke="#000"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = (maxY * i) / 4;
    out.push(`<text x="${x0 + PAD.l - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${fmt(y)}${unit}</text>`);
  }
  for (const x of xs) out.push(`<text x="${sx(x)}" y="${H - PAD.b + 16}" text-anchor="middle" font-size="11">${x}</text>`);
  out.push(`<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">workers</text>`);
  variants.forEach((v, i) => {
    const pts = rows.filter((r) => r.variant === v && value(r) !== undefined).sort((a, b) => a.workers - b.workers);
    const color = COLORS[i % COLORS.length]!;
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((r) => `${sx(r.workers)},${sy(value(r)!)}`).join(" ")}"/>`);
    for (const r of pts) out.push(`<circle cx="${sx(r.workers)}" cy="${sy(value(r)!)}" r="3" fill="${color}"/>`);
    out.push(`<text x="${x0 + W - PAD.r}" y="${PAD.t + 12 + 14 * i}" text-anchor="end" font-size="11" fill="${color}">${esc(v)}</text>`);
  });
  return out.join("\n");
}

export function chartSvg(rows: SummaryRow[], title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" font-family="sans-serif" font-size="12">`,
    `<text x="${W}" y="${H + 18}" text-anchor="middle" font-size="11">${esc(title)}</text>`,
    panel(rows, (r) => r.medianSeconds, "predicted time (median over seeds)", " s", 0),
    panel(rows, (r) => r.medianCost, "predicted cost", " $", W),
    `</svg>`,
  ].join("\n");
}

export function chartHtml(rows: SummaryRow[], title: string, table: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${chartSvg(rows, title)}<pre>${esc(table)}</pre><p>Predictions of the Smelter simulator (docs/simulation.md), not measurements.</p></body></html>\n`;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3);
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
