// Runs a command to its end (systemctl restart …): resolves on exit code 0, rejects with the
// command and its exit code otherwise. Output goes to the agent's own stdout and stderr.
import { spawn } from 'node:child_process';
import type { ChildCommand } from './child.ts';

export function runCommand(cmd: ChildCommand, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { stdio: 'inherit', env: { ...process.env, ...cmd.env } });
    child.on('error', (err) => reject(new Error(`${what} ${cmd.command} could not start (${err.message})`)));
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${what} ${[cmd.command, ...cmd.args].join(' ')} ${signal ? `was killed by ${signal}` : `exited with ${code}`}`,
            ),
          ),
    );
  });
}
