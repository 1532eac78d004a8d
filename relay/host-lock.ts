// The relay's one turn at the Home Assistant host: a job (deploy, rollback, recovery) and a look of
// the drift watch never run at once. A look reads the files a deploy is writing, and would report
// a half-written deploy as drift; a deploy that waited for nothing would find the watch's hashing
// racing its own. Holders run one after another, in the order they asked.
export class HostLock {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;

  /** True while someone holds the host or waits for it. */
  get busy(): boolean {
    return this.holders > 0;
  }

  /** Runs `work` once every earlier holder is done; the next one waits for it, whatever it ends in. */
  run<T>(work: () => Promise<T>): Promise<T> {
    this.holders += 1;
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    void this.tail.then(() => {
      this.holders -= 1;
    });
    return result;
  }
}
