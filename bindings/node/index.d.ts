/** One part of a message's content (OpenAI's schema). */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: string; [field: string]: unknown };

/** A call of a function tool, as an assistant message holds it. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One turn of the conversation (OpenAI's schema); any other field is sent as written. */
export interface Message {
  role: string;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  reasoning_content?: string;
  refusal?: string;
  [field: string]: unknown;
}

/** A tool the model may call. */
export interface Tool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** Settings of a request, or a client's defaults. camelCase here; the C schema's names on the wire. */
export interface Options {
  // <generated:options>
  /** The protocol: one of the registry's names. */
  provider?: string;
  /** The model name. */
  model?: string;
  /** Stream the answer as it is generated. Library default: false. */
  stream?: boolean;
  /** The server's base URL. */
  baseUrl?: string;
  /** The API key; sent as each protocol sends it. */
  apiKey?: string;
  /** Extra HTTP headers; each value is masked in messages. */
  headers?: Record<string, string>;
  /** A proxy URL (http, socks4, socks4a, socks5, socks5h); "" for none. */
  proxy?: string;
  /** Sampling temperature. */
  temperature?: number;
  /** Nucleus sampling. */
  topP?: number;
  /** Presence penalty. */
  presencePenalty?: number;
  /** Frequency penalty. */
  frequencyPenalty?: number;
  /** Most tokens to generate. */
  maxTokens?: number;
  /** The functions the model may call (OpenAI's `tools`). */
  tools?: Tool[];
  /** Whether and which tool the model must call. */
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  /** Whether the model may call several tools at once. */
  parallelToolCalls?: boolean;
  /** The answer's format (JSON object, JSON schema). */
  responseFormat?: Record<string, unknown>;
  /** Where generation stops. */
  stop?: string | string[];
  /** Sampling seed. */
  seed?: number;
  /** Reasoning effort for reasoning models ("low", "medium", "high", ...). */
  reasoningEffort?: string;
  /** How many choices to generate; events carry each one's index. */
  n?: number;
  /** With `stream`, ask for token usage in the stream. Library default: true. */
  includeUsage?: boolean;
  /** With the event API, end the answer with one RESULT event: the whole answer, assembled. Library default: false. */
  result?: boolean;
  /** An id of the end user, for the provider's abuse monitoring. */
  user?: string;
  /** The AWS region (Bedrock); its host and signature are for it. */
  region?: string;
  /** Fields merged into the request body as written (they win). */
  extraBody?: Record<string, unknown>;
  /** Longest wait to connect (TCP and TLS), per attempt. Library default: 10000. */
  connectTimeoutMs?: number;
  /** Longest silence while waiting for or reading the answer. Library default: 60000. */
  idleTimeoutMs?: number;
  /** Longest whole call, retries included. Library default: 600000. */
  timeoutMs?: number;
  /** Retries of a failed attempt (connection errors, 408, 409, 429, 5xx, overload). Library default: 2. */
  maxRetries?: number;
  /** Largest answer body read. Library default: 67108864. */
  maxResponseBytes?: number;
  /** PEM certificates trusted instead of the built-in roots. */
  caFile?: string;
  /** Trust roots: "webpki" (Mozilla's, built in) or "system" (the operating system's). Library default: "webpki". */
  tlsRoots?: 'webpki' | 'system';
  // </generated:options>
}

/** Token counts; null where the server did not say. */
export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
}

/** One piece of an answer, as events() yields it: 'response' first, 'message' last. */
export type Event =
  | { type: 'response'; id: string; model: string; requestId: string }
  | { type: 'text' | 'reasoning' | 'refusal'; choice: number; text: string }
  | { type: 'tool_call'; choice: number; index: number; id: string; name: string }
  | { type: 'tool_arguments'; choice: number; index: number; text: string }
  | { type: 'finish'; choice: number; reason: string; rawReason: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'message'; choice: number; message: Message; json: string }
  /** Only with `result: true`, very last: the whole answer, as run() returns it, and its JSON. */
  | { type: 'result'; result: Result; json: string };

/** One choice of a Result. */
export interface Choice {
  index: number;
  text: string;
  reasoning: string;
  refusal: string;
  toolCalls: ToolCall[];
  /** 'stop', 'length', 'tool_calls', 'content_filter' or the server's word; null if none came. */
  finishReason: string | null;
  /** The reason as the server wrote it; null if none came. */
  finishReasonRaw: string | null;
  /** The assistant message: push it onto `messages` for the next turn. */
  message: Message;
}

/** The whole answer, as the library assembles it for run(); the fields outside `choices` are choice 0's. */
export interface Result {
  text: string;
  reasoning: string;
  refusal: string;
  toolCalls: ToolCall[];
  /** 'stop', 'length', 'tool_calls', 'content_filter' or the server's word; null if none came. */
  finishReason: string | null;
  usage: Usage | null;
  responseId: string;
  model: string;
  requestId: string;
  /** The assistant message: push it onto `messages` for the next turn. */
  message: Message;
  /** Every choice, in order: more than one when the request set `n`. */
  choices: Choice[];
}

export interface Request extends Options {
  messages: Message[];
}

export interface CallOptions {
  /** Aborting stops the request within milliseconds; the iteration rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A failed request: the library's status code and message. */
export class AichatError extends Error {
  /** The C name, e.g. 'AICHAT_ERROR_TIMEOUT'. */
  code: string;
  /** The C status number. */
  status: number;
  /** The HTTP status of the answer behind the error; 0 when none arrived. */
  httpStatus: number;
}

export class Client {
  constructor(options?: Options);
  /** Each chunk as it arrives; `break` stops the request. */
  createCompletion(req: Request | Message[], opts?: CallOptions): AsyncIterable<string>;
  /** The whole text of one completion. */
  complete(req: Request | Message[], opts?: CallOptions): Promise<string>;
  /** Every event of one completion as it arrives; `break` stops the request. */
  events(req: Request | Message[], opts?: CallOptions): AsyncIterable<Event>;
  /** The whole answer of one completion. */
  run(req: Request | Message[], opts?: CallOptions): Promise<Result>;
  /** Releases the native client once its running requests have ended. Idempotent. */
  close(): void;
}

/** Client.createCompletion on a process-wide client with library defaults. */
export function createCompletion(req: Request | Message[], opts?: CallOptions): AsyncIterable<string>;
/** Client.complete on a process-wide client with library defaults. */
export function complete(req: Request | Message[], opts?: CallOptions): Promise<string>;
/** Client.events on a process-wide client with library defaults. */
export function events(req: Request | Message[], opts?: CallOptions): AsyncIterable<Event>;
/** Client.run on a process-wide client with library defaults. */
export function run(req: Request | Message[], opts?: CallOptions): Promise<Result>;
