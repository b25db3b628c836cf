// ESM entry: the same objects as the CommonJS entry, so `instanceof AichatError` holds across both.
import aichat from './lib/aichat.cjs';

export const { Client, AichatError, createCompletion, complete, events, run } = aichat;
export default aichat;
