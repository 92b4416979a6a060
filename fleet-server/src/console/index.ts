// The operator web console: server-rendered pages (hono/jsx) with a little client script, served
// from the fleet server. createConsole() returns a Hono sub-app to mount with app.route('/', …).
export { type ConsoleDeps, createConsole, DEFAULT_CONSOLE_BASE } from './app.tsx';
export { LANGS, type Lang, MESSAGES } from './locales/index.ts';
