export { sessionsConfigSchema, type SessionsConfig } from './config.js';
export { NO_SESSION, Sessions, type SessionFacts } from './sessions.js';
export { MemorySessionStore, RedisSessionStore, type SessionState, type SessionStore } from './store.js';
export { createSessionStage } from './stage.js';
