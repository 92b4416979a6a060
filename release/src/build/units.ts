// The unit files a release ships start Brána with plain `node` from the installed release
// (/opt/brana/current/…), never through the tsx shims of a checkout: checked at build time against
// the release's own file list, so a unit cannot name a file the release lacks.
import { INSTALL_ROOT } from './contents.ts';

export interface UnitFile {
  /** File name, e.g. brana-gateway.service. */
  name: string;
  text: string;
}

const EXEC = /^(ExecStart|ExecStartPre|ExecStartPost|ExecReload|ExecStop|ExecStopPost)=(.*)$/;

/** Problems with the units' commands, one line each, naming the unit and the line. */
export function checkUnits(units: readonly UnitFile[], releaseFiles: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const unit of units) {
    unit.text.split('\n').forEach((raw, i) => {
      const m = EXEC.exec(raw.trim());
      if (!m) return;
      const where = `${unit.name}:${i + 1}`;
      // Prefixes (-, @, +, !, :) change how systemd runs the line, not what it runs.
      const command = m[2]!.replace(/^[-@+!:]+/, '').trim();
      const [program, ...args] = command.split(/\s+/);
      if (program === undefined || program === '') return;
      if (/tsx|\/bin\/brana-[a-z-]+\.mjs$/.test(command) || /^\/usr\/bin\/brana-/.test(program)) {
        problems.push(
          `${where}: ${m[1]} runs ${program} through the TypeScript shim; start the built JavaScript with /usr/bin/node`,
        );
        return;
      }
      for (const a of [program, ...args]) {
        if (a.startsWith(`${INSTALL_ROOT}/current/`)) {
          const rel = a.slice(`${INSTALL_ROOT}/current/`.length);
          if (!releaseFiles.has(rel)) problems.push(`${where}: ${a} is not a file of the release`);
        } else if (a.startsWith(`${INSTALL_ROOT}/`) && !a.startsWith(`${INSTALL_ROOT}/guard/`)) {
          problems.push(
            `${where}: ${a} is outside ${INSTALL_ROOT}/current (the switched link) and the guard`,
          );
        }
      }
    });
  }
  return problems;
}
