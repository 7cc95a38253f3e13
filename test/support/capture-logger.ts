import type { Logger } from '../../config/logger';

export interface LogEntry {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A Logger that records instead of printing, so tests stay quiet and can assert what was logged. */
export function captureLogger(): { log: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (base: Record<string, unknown>): Logger => {
    const write = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
      entries.push({ level, msg, fields: { ...base, ...fields } });
    };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return { log: make({}), entries };
}
