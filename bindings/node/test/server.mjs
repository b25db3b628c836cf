// Starts the project's local test server for a test file and stops it when the process ends.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startServer() {
  const bin = process.env.AICHAT_TESTSERVER ?? path.join(here, '..', '..', '..', 'target', 'release', 'aichat-testserver');
  // stdin stays a pipe: the server exits when this process does, however it ends.
  const child = spawn(bin, ['0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const [url] = await once(lines, 'line');
  lines.close();
  child.unref();
  child.stdin.unref?.();
  child.stdout.unref?.();
  return {
    url,
    fault: (spec) => `${url}/fault/${spec}`,
    stop: () => child.kill('SIGTERM'),
  };
}
