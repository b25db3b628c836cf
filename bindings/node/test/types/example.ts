// Checked with `tsc --noEmit`: the declarations describe how the package is used.
import {
  Client, AichatError, createCompletion, complete, events, run, type Message, type Request, type Tool,
} from '../../index.js';

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
    const tools: Tool[] = [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }];
    const result = await client.run({ ...request, tools, toolChoice: 'auto' });
    if (result.toolCalls.length > 0) {
      messages.push(result.message, { role: 'tool', tool_call_id: result.toolCalls[0].id, content: '12:00' });
    }
    for await (const e of events({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] })) {
      if (e.type === 'text' || e.type === 'reasoning') text += e.text;
      else if (e.type === 'tool_call') text += `${e.index} ${e.name}`;
      else if (e.type === 'usage') text += String(e.usage.totalTokens ?? 0);
    }
    text += (await run(messages)).finishReason ?? '';
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
