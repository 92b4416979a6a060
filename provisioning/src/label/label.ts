// A printable gateway label (SVG, 62 × 29 mm: the common continuous label tape width): a QR code
// with the gateway's console page, and the gateway id, site and host name in text beside it.
// The QR is drawn as one path from the qrcode library's module matrix, so the file stands alone.
import QRCode from 'qrcode';
import { InvalidInputError } from '../errors.ts';
import { redact } from '../validate/index.ts';

/** The web console's base path on the fleet server (fleet-server's DEFAULT_CONSOLE_BASE). */
export const CONSOLE_BASE = '/console';
const TEXT_WIDTH_MM = 31;

export interface LabelInput {
  serverUrl: string;
  gatewayId: string;
  site: string;
  hostname?: string;
  /** Only its first characters are printed, to match a card to its box; never in the QR code. */
  claimToken?: string;
}

export function consoleUrl(serverUrl: string, gatewayId: string): string {
  return `${serverUrl.replace(/\/+$/, '')}${CONSOLE_BASE}/gateways/${encodeURIComponent(gatewayId)}`;
}

export function checkGatewayId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new InvalidInputError(
      '--gateway',
      `"${id}" is not a gateway id`,
      'copy the id (gw_…) from the console or from the agent log',
    );
  }
  return id;
}

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** One path of unit squares, a row's runs of dark modules merged into one rectangle. */
function qrPath(size: number, dark: (x: number, y: number) => boolean): string {
  const parts: string[] = [];
  for (let y = 0; y < size; y++) {
    let x = 0;
    while (x < size) {
      if (!dark(x, y)) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && dark(x, y)) x++;
      parts.push(`M${start} ${y}h${x - start}v1h${start - x}z`);
    }
  }
  return parts.join('');
}

export interface Label {
  svg: string;
  url: string;
  /** QR modules per side (without the quiet zone). */
  qrSize: number;
}

export function renderLabel(input: LabelInput): Label {
  const url = consoleUrl(input.serverUrl, input.gatewayId);
  const qr = QRCode.create(url, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const data = qr.modules.data;
  const quiet = 4; // ISO/IEC 18004 quiet zone, in modules
  const qrMm = 25;
  const scale = qrMm / (n + 2 * quiet);
  const lines = [
    { text: input.gatewayId, size: 3.2, weight: 'bold' },
    { text: input.site, size: 3 },
    ...(input.hostname ? [{ text: input.hostname, size: 2.6 }] : []),
    ...(input.claimToken ? [{ text: `claim ${redact(input.claimToken)}`, size: 2.4 }] : []),
    { text: url.replace(/^https?:\/\//, ''), size: 1.6 },
  ];
  let y = 6;
  const text = lines
    .map((l) => {
      // Text beside the QR has 31 mm; a longer line (~0.6 em per character) is squeezed to fit.
      const fit =
        l.text.length * l.size * 0.6 > TEXT_WIDTH_MM
          ? ` textLength="${TEXT_WIDTH_MM}" lengthAdjust="spacingAndGlyphs"`
          : '';
      const el = `<text x="29" y="${y.toFixed(1)}" font-size="${l.size}"${l.weight ? ` font-weight="${l.weight}"` : ''}${fit}>${escapeXml(l.text)}</text>`;
      y += l.size + 2;
      return el;
    })
    .join('\n  ');
  const svg = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="62mm" height="29mm" viewBox="0 0 62 29">
  <title>Brána gateway ${escapeXml(input.gatewayId)}</title>
  <rect width="62" height="29" fill="#fff"/>
  <g transform="translate(2 2) scale(${scale.toFixed(5)})">
    <path data-qr="${escapeXml(url)}" fill="#000" shape-rendering="crispEdges" transform="translate(${quiet} ${quiet})" d="${qrPath(n, (x, yy) => data[yy * n + x] === 1)}"/>
  </g>
  <g font-family="DejaVu Sans, Arial, sans-serif" fill="#000">
  ${text}
  </g>
</svg>
`;
  return { svg, url, qrSize: n };
}
