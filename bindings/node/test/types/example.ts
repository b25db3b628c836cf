// Checked with `tsc --noEmit`: the declarations describe how the package is used.
import { Client, AichatError, createCompletion, complete, type Message, type Request } from '../../index.js';

const messages: Message[] = [{ role: 'user', content: 'Hi' }];
const request: Request = { messages, provider: 'openai', stream: true, temperature: 0.2, extraBody: { seed: 1 } };

async function main(): Promise<string> {
  const client = new Client({ baseUrl: 'http://127.0.0.1:8080/v1', timeoutMs: 10_000 });
  const controller = new AbortController();
  let text = '';
  try {
    for await (const chunk of client.createCompletion(request, { signal: controller.signal })) {
      text += chunk;
    }
    text += await client.complete(messages);
    text += await complete(request);
    for await (const chunk of createCompletion(messages)) text += chunk.toUpperCase();
  } catch (e) {
    if (e instanceof AichatError) {
      const code: string = e.code;
      const status: number = e.httpStatus + e.status;
      return `${code} ${status}`;
    }
    throw e;
  } finally {
    client.close();
  }
  return text;
}

void main();
