// One operation at a time per key (a flake): later ones wait their turn, in order, and may give up while waiting.
// No `vscode` import.

export type Release = () => void;

interface Slot {
  holder: string;
  waiters: { what: string; wake: (release: Release) => void }[];
}

export class KeyedSerialiser {
  private readonly slots = new Map<string, Slot>();

  /** What holds `key` now (the `what` it was acquired with), if anything. */
  holder(key: string): string | undefined {
    return this.slots.get(key)?.holder;
  }

  /**
   * Waits until nothing else holds `key`, then holds it until the returned function is called (calling it again does
   * nothing). `onWait` is called with what holds the key when this call has to wait. Resolves to undefined when
   * `signal` aborts first (the place in the queue is given up; nothing is held).
   */
  acquire(key: string, what: string, signal?: AbortSignal, onWait?: (holder: string) => void): Promise<Release | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    const slot = this.slots.get(key);
    if (!slot) {
      this.slots.set(key, { holder: what, waiters: [] });
      return Promise.resolve(this.releaser(key));
    }
    onWait?.(slot.holder);
    return new Promise((resolve) => {
      const waiter = {
        what,
        wake: (release: Release) => {
          signal?.removeEventListener('abort', abort);
          resolve(release);
        },
      };
      const abort = () => {
        const i = slot.waiters.indexOf(waiter);
        if (i >= 0) slot.waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', abort, { once: true });
      slot.waiters.push(waiter);
    });
  }

  private releaser(key: string): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const slot = this.slots.get(key);
      if (!slot) return;
      const next = slot.waiters.shift();
      if (!next) {
        this.slots.delete(key);
        return;
      }
      slot.holder = next.what;
      next.wake(this.releaser(key));
    };
  }
}
