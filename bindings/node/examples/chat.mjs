// Streams a completion to stdout, like the C example:
//   node examples/chat.mjs [--base-url URL] [--provider NAME] [--model NAME] [--no-stream] [MESSAGE...]
// Flags fall back to AICHAT_BASE_URL, AICHAT_PROVIDER, AICHAT_MODEL. Ctrl-C stops the request.
import { parseArgs } from 'node:util';
import { createCompletion } from '../index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string', default: process.env.AICHAT_BASE_URL },
    provider: { type: 'string', default: process.env.AICHAT_PROVIDER },
    model: { type: 'string', default: process.env.AICHAT_MODEL },
    'no-stream': { type: 'boolean', default: false },
  },
});
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const request = {
  messages: [{ role: 'user', content: positionals.join(' ') || 'Hello! Who are you?' }],
  baseUrl: values['base-url'] || undefined,
  provider: values.provider || undefined,
  model: values.model || undefined,
  stream: !values['no-stream'],
};
try {
  for await (const chunk of createCompletion(request, { signal: controller.signal })) process.stdout.write(chunk);
  process.stdout.write('\n');
} catch (e) {
  console.error(`\nchat: ${e.code ?? e.name}: ${e.message}`);
  process.exitCode = 1;
}
