/** Logs go to stderr only (stdout carries data). "pretty" is one plain line per message, for
 * people and cron mail; "json" is pino's own line format, for log pipelines. pino is loaded only
 * for that (~25 ms of every run's start): a plain line needs nothing of it. */
import type pino from 'pino';
import { LOG_LEVELS } from './option-table';

export type LogFormat = 'pretty' | 'json';
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A message, or fields then a message (pino's call forms; a plain line shows the message alone). */
type LogFn = (fieldsOrMessage: object | string, message?: string) => void;
export interface Logger { fatal: LogFn; error: LogFn; warn: LogFn; info: LogFn; debug: LogFn; trace: LogFn }

/** pino's level numbers, and the word a plain line gives each */
const LEVELS = { fatal: [60, 'fatal: '], error: [50, 'error: '], warn: [40, 'warning: '], info: [30, ''], debug: [20, 'debug: '],
  trace: [10, 'trace: '] } as const;

function plainLogger(level: LogLevel): Logger {
  const least = level === 'silent' ? Infinity : LEVELS[level][0];
  const at = (name: keyof typeof LEVELS): LogFn => {
    const [value, word] = LEVELS[name];
    return (a, b) => {
      if (value < least) return;
      process.stderr.write(`flowseek: ${word}${typeof a === 'string' ? a : b ?? ''}\n`);
    };
  };
  return { fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
}

export function createLogger(level: LogLevel = 'info', format: LogFormat = 'pretty'): Logger {
  if (format !== 'json') return plainLogger(level);
  const load = require('pino') as typeof pino;
  return load({ level, base: undefined, timestamp: load.stdTimeFunctions.isoTime }, load.destination({ fd: 2, sync: true }));
}
