// Console languages: Czech and English string tables and the translate function built from one.
// The language comes from the brana_lang cookie, else from Accept-Language, else Czech.
import { cs } from './cs.ts';
import { en, type MessageKey, type Messages } from './en.ts';

export const LANGS = ['cs', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_COOKIE = 'brana_lang';
export const MESSAGES: Record<Lang, Messages> = { cs, en };
export type { MessageKey, Messages };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const table = MESSAGES[lang];
  return (key, vars) => {
    const text = table[key];
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  };
}

export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie === 'cs' || cookie === 'en') return cookie;
  const first = (acceptLanguage ?? '')
    .split(',')
    .map((p) => p.trim().slice(0, 2).toLowerCase())
    .find((p) => p === 'cs' || p === 'en' || p === 'sk');
  return first === 'en' ? 'en' : 'cs';
}
