// The hub's meta table: one value per key, for what a target has one of (its name, its branch head,
// the relay's last sign of life, the alarm's time). A missing key reads as null.
export class HubMeta {
  constructor(private readonly sql: SqlStorage) {}

  get(key: string): string | null {
    const row = this.sql.exec('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
    return row ? String(row.value) : null;
  }

  /** Sets the key's value; null deletes it. */
  set(key: string, value: string | null): void {
    if (value === null) this.sql.exec('DELETE FROM meta WHERE key = ?', key);
    else this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** Every entry point names its target; the hub remembers it for alarms and socket events. */
  remember(target: string): void {
    if (this.get('target') !== target) this.set('target', target);
  }

  targetName(): string {
    return this.get('target') ?? 'unknown';
  }
}
