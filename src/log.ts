/** Logs go to stderr only (stdout carries data). "pretty" is one plain line per message, for
 * people and cron mail; "json" is pino's own line format, for log pipelines. */
import pino from 'pino';
import { LOG_LEVELS } from './option-table';

export type LogFormat = 'pretty' | 'json';
export type LogLevel = (typeof LOG_LEVELS)[number];

const PRETTY_LEVELS: Record<number, string> = { 60: 'fatal: ', 50: 'error: ', 40: 'warning: ', 30: '', 20: 'debug: ', 10: 'trace: ' };

function prettyStderr(): pino.DestinationStream {
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as { level: number; msg?: string };
        process.stderr.write(`flowseek: ${PRETTY_LEVELS[o.level] ?? ''}${o.msg ?? ''}\n`);
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

export function createLogger(level: LogLevel = 'info', format: LogFormat = 'pretty'): pino.Logger {
  const dest = format === 'json' ? pino.destination({ fd: 2, sync: true }) : prettyStderr();
  return pino({ level, base: undefined, timestamp: format === 'json' ? pino.stdTimeFunctions.isoTime : false }, dest);
}
