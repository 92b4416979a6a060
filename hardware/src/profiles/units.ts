// Units of profile points and the key suffix each one implies (STYLE point 4: units in names).

/** Unit → the suffix a point key carrying it must end with (`voltageL1V`, `energyImportKWh`). */
export const UNIT_SUFFIX = {
  V: 'V',
  A: 'A',
  W: 'W',
  VA: 'VA',
  var: 'Var',
  Wh: 'Wh',
  kWh: 'KWh',
  kvarh: 'KVarh',
  Hz: 'Hz',
  '°C': 'C',
  '%': 'Pct',
  ppm: 'Ppm',
  m3: 'M3',
  'm3/h': 'M3H',
  l: 'L',
  s: 'S',
  h: 'H',
  deg: 'Deg',
  '': '',
} as const;

export type Unit = keyof typeof UNIT_SUFFIX;
export const UNITS = Object.keys(UNIT_SUFFIX) as Unit[];

/** The unit a key's suffix names (longest suffix wins: `apparentPowerVA` is VA, not A), or '' when none. */
export function unitFromKey(key: string): Unit {
  let best: Unit = '';
  for (const unit of UNITS) {
    const suffix = UNIT_SUFFIX[unit];
    if (suffix !== '' && key.endsWith(suffix) && key.length > suffix.length) {
      if (suffix.length > UNIT_SUFFIX[best].length) best = unit;
    }
  }
  return best;
}
