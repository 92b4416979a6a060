// Platforms a release is built for, and the one check that tells a native module's platform from
// its bytes: the ELF header's class and machine fields (a .node file is an ELF shared object).

export const PLATFORMS = ['linux-arm64', 'linux-x64'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** ELF e_machine values (System V ABI): 0xB7 AArch64, 0x3E x86-64. */
const ELF_MACHINE: Record<Platform, number> = { 'linux-arm64': 0xb7, 'linux-x64': 0x3e };

export function isPlatform(value: unknown): value is Platform {
  return typeof value === 'string' && (PLATFORMS as readonly string[]).includes(value);
}

/** The platform this process runs on, or undefined when it is none a release is built for. */
export function hostPlatform(
  os: string = process.platform,
  arch: string = process.arch,
): Platform | undefined {
  const p = `${os}-${arch}`;
  return isPlatform(p) ? p : undefined;
}

export type ElfPlatform =
  | { kind: 'platform'; platform: Platform }
  | { kind: 'other'; detail: string }
  | { kind: 'not-elf' };

/** What a binary's first 20 bytes say it was built for. */
export function elfPlatform(head: Uint8Array): ElfPlatform {
  if (head.length < 20 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return { kind: 'not-elf' };
  }
  const is64 = head[4] === 2;
  const littleEndian = head[5] === 1;
  const machine = littleEndian ? head[18]! | (head[19]! << 8) : (head[18]! << 8) | head[19]!;
  for (const p of PLATFORMS) {
    if (is64 && littleEndian && ELF_MACHINE[p] === machine) return { kind: 'platform', platform: p };
  }
  return {
    kind: 'other',
    detail: `ELF ${is64 ? '64' : '32'}-bit ${littleEndian ? 'LE' : 'BE'} machine 0x${machine.toString(16)}`,
  };
}
