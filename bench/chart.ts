/** A small SVG bar chart of the ratios in results.json, for the README. */
import type { Figure } from './figures.js';

const BAR_HEIGHT = 16;
const GAP = 6;
const LABEL_WIDTH = 330;
const PLOT_WIDTH = 300;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function chart(figures: readonly Figure[], title: string): string {
  const charted = figures.filter((item) => item.target !== undefined || item.group === 'backfill');
  const maxRatio = Math.max(
    1.5,
    ...charted.map((item) => item.ratio),
    ...charted.map((item) => item.target?.atLeast ?? item.target?.atMost ?? 0),
  );
  const scale = PLOT_WIDTH / maxRatio;
  const top = 34;
  const height = top + charted.length * (BAR_HEIGHT + GAP) + 24;
  const width = LABEL_WIDTH + PLOT_WIDTH + 90;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${LABEL_WIDTH + scale}" y1="${top - 6}" x2="${LABEL_WIDTH + scale}" y2="${height - 20}" stroke="#999" stroke-dasharray="3,3"/>`,
    `<text x="${LABEL_WIDTH + scale - 14}" y="${height - 6}" fill="#666">1.0 = baseline</text>`,
  ];
  charted.forEach((item, index) => {
    const y = top + index * (BAR_HEIGHT + GAP);
    const colour = item.met === false ? '#d9534f' : item.group === 'backfill' ? '#5b8def' : '#4caf50';
    const mark = item.target?.atLeast ?? item.target?.atMost;
    parts.push(
      `<text x="${LABEL_WIDTH - 6}" y="${y + 12}" text-anchor="end">${escapeXml(`${item.group}: ${item.label}`)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, item.ratio * scale).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
      `<text x="${LABEL_WIDTH + item.ratio * scale + 4}" y="${y + 12}">${item.ratio.toFixed(2)} ${escapeXml(item.ratioLabel)}</text>`,
    );
    if (mark !== undefined) {
      parts.push(
        `<line x1="${LABEL_WIDTH + mark * scale}" y1="${y - 2}" x2="${LABEL_WIDTH + mark * scale}" y2="${y + BAR_HEIGHT + 2}" stroke="black" stroke-width="2"/>`,
      );
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
