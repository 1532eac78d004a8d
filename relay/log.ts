// One line per event, with a timestamp and the level: readable in journalctl and in the demo.
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleLogger(prefix = 'relay'): Logger {
  const line = (level: LogLevel, message: string) => {
    const text = `${new Date().toISOString()} ${level.padEnd(5)} ${prefix}: ${message}`;
    if (level === 'info') console.log(text);
    else console.error(text);
  };
  return { info: (m) => line('info', m), warn: (m) => line('warn', m), error: (m) => line('error', m) };
}
