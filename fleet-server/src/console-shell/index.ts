// The console's shell: the app that feature pages mount on (sign-in, language, live updates,
// errors) and the kit they render with (layout, guard, formats, translations, charts).
export { Chart, type ChartSpec, jsonForScript } from './chart.tsx';
export { ErrorPage } from './error-page.tsx';
export { type Formatter, formatter, localMonth, startOfLocalDay } from './format.ts';
export {
  type ConsoleContext,
  type ConsoleEnv,
  formFields,
  guard,
  type PageHandler,
  pageCtx,
  parseQuery,
} from './kit.tsx';
export { Badge, Layout, NAV, type PageCtx } from './layout.tsx';
export {
  LANG_COOKIE,
  LANGS,
  type Lang,
  MESSAGES,
  type MessageKey,
  type Translate,
  translator,
} from './locales/index.ts';
export {
  type ConsoleShell,
  type ConsoleShellDeps,
  consoleShell,
  DEFAULT_CONSOLE_BASE,
  safeNext,
} from './shell.tsx';
export { DiffPicker, type EventRowView, EventsTable } from './widgets.tsx';
