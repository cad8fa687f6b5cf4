/**
 * @module One chain of tasks per key: tasks of one key run one after the other, in the order given, and tasks
 * of different keys overlap. A stream's sensor updates are pushed so, whichever connection they came on.
 */
export class SerialQueues {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every task given before for `key`; its result (or failure) is the caller's alone. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** Resolves once every task given so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }

  get keys(): number {
    return this.#tails.size;
  }
}
