/** One turn of the conversation. */
export type Message = { role: string; content: string };

/** Settings of a request, or a client's defaults. camelCase here; the C schema's names on the wire. */
export interface Options {
  model?: string;
  stream?: boolean;
  /** 'aichat' (default) or 'openai'. */
  provider?: string;
  baseUrl?: string;
  apiKey?: string;
  /** A proxy URL; '' turns proxies off; unset uses HTTP_PROXY/HTTPS_PROXY/NO_PROXY. */
  proxy?: string;
  temperature?: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  maxTokens?: number;
  headers?: Record<string, string>;
  extraBody?: Record<string, unknown>;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  timeoutMs?: number;
  maxRetries?: number;
  maxResponseBytes?: number;
  /** PEM file whose certificates are trusted instead of the built-in roots. */
  caFile?: string;
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
  /** Releases the native client once its running requests have ended. Idempotent. */
  close(): void;
}

/** Client.createCompletion on a process-wide client with library defaults. */
export function createCompletion(req: Request | Message[], opts?: CallOptions): AsyncIterable<string>;
/** Client.complete on a process-wide client with library defaults. */
export function complete(req: Request | Message[], opts?: CallOptions): Promise<string>;
