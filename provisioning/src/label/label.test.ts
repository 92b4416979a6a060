import { DEFAULT_CONSOLE_BASE } from '@brana/fleet-server';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { CONSOLE_BASE, checkGatewayId, consoleUrl, renderLabel } from './label.ts';

const CLAIM = `brc_${'Xy9_'.repeat(8)}`;

/** Dark modules drawn by the label's path ("M{x} {y}h{w}v1h-{w}z" runs). */
function modulesFromPath(d: string, size: number): number[] {
  const grid = new Array<number>(size * size).fill(0);
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
    for (let i = 0; i < w; i++) grid[y * size + x + i] = 1;
  }
  return grid;
}

describe('gateway label', () => {
  it('is well-formed SVG whose QR modules are exactly the QR code of the console URL, with the text beside it', () => {
    const label = renderLabel({
      serverUrl: 'https://fleet.example.org/',
      gatewayId: 'gw_AbC123',
      site: 'ZŠ Komenského <hlavní> & "spol."',
      hostname: 'zs-komenskeho-01',
      claimToken: CLAIM,
    });
    expect(XMLValidator.validate(label.svg)).toBe(true);
    expect(label.url).toBe('https://fleet.example.org/console/gateways/gw_AbC123');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(label.svg);
    expect(doc.svg.width).toBe('62mm');
    const path = doc.svg.g[0].path;
    expect(path['data-qr']).toBe(label.url);
    const expected = QRCode.create(label.url, { errorCorrectionLevel: 'M' }).modules;
    expect(label.qrSize).toBe(expected.size);
    expect(modulesFromPath(path.d, expected.size)).toEqual(Array.from(expected.data));
    const texts = (doc.svg.g[1].text as { '#text': string }[]).map((t) => t['#text']);
    expect(texts).toContain('gw_AbC123');
    expect(texts).toContain('ZŠ Komenského <hlavní> & "spol."');
    expect(texts).toContain('zs-komenskeho-01');
    expect(texts).toContain(`claim ${CLAIM.slice(0, 8)}…`);
    // A line longer than the 31 mm beside the QR code is squeezed to fit; a short one is not.
    const urlText = (doc.svg.g[1].text as Record<string, string>[]).find((t) =>
      t['#text']?.includes('/console/'),
    )!;
    expect(urlText.textLength).toBe('31');
    expect(
      (doc.svg.g[1].text as Record<string, string>[]).find((t) => t['#text'] === 'gw_AbC123')!.textLength,
    ).toBeUndefined();
    // The claim token itself is never on the label.
    expect(label.svg).not.toContain(CLAIM);
  });

  it('uses the console path the fleet server mounts, and checks gateway ids', () => {
    expect(CONSOLE_BASE).toBe(DEFAULT_CONSOLE_BASE);
    expect(consoleUrl('https://x.org/base/', 'gw_1')).toBe('https://x.org/base/console/gateways/gw_1');
    expect(() => checkGatewayId('gw 1')).toThrow(/--gateway: "gw 1" is not a gateway id/);
  });
});
