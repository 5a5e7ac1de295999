// The shared buffer behind input(): [state, length] as Int32, then the answer's UTF-8 bytes.
// The worker waits on `state` (Atomics) while the host writes the answer and wakes it.

export const INPUT_WAITING = 0;
export const INPUT_ANSWERED = 1;
export const INPUT_INTERRUPTED = 2;
export const INPUT_HEADER_BYTES = 8;

const encoder = new TextEncoder();

/** The host side of input(): write the answer (or an interrupt) and wake the worker. */
export function answerInput(buffer: SharedArrayBuffer, answer: string | null): void {
  const state = new Int32Array(buffer, 0, 2);
  if (answer === null) {
    Atomics.store(state, 0, INPUT_INTERRUPTED);
  } else {
    const bytes = encoder.encode(answer).slice(0, buffer.byteLength - INPUT_HEADER_BYTES);
    new Uint8Array(buffer, INPUT_HEADER_BYTES, bytes.length).set(bytes);
    state[1] = bytes.length;
    Atomics.store(state, 0, INPUT_ANSWERED);
  }
  Atomics.notify(state, 0);
}

/**
 * The worker side of input(): mark the buffer waiting, `ask` the host, and block until it
 * answers. Null when the host interrupted instead, or when Pyodide's interrupt flag
 * (`interrupt[0]`, checked every half second) was raised meanwhile: then the flag is cleared,
 * as the kernel raises the KeyboardInterrupt itself, once.
 */
export function waitForInput(buffer: SharedArrayBuffer, interrupt: Int32Array | null, ask: () => void): string | null {
  const state = new Int32Array(buffer, 0, 2);
  Atomics.store(state, 0, INPUT_WAITING);
  ask();
  while (Atomics.load(state, 0) === INPUT_WAITING) {
    Atomics.wait(state, 0, INPUT_WAITING, 500);
    if (interrupt && interrupt[0] !== 0) {
      interrupt[0] = 0;
      return null;
    }
  }
  if (Atomics.load(state, 0) !== INPUT_ANSWERED) return null;
  const bytes = new Uint8Array(buffer, INPUT_HEADER_BYTES, state[1]);
  return new TextDecoder().decode(bytes.slice());
}
