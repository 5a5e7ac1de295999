// Comm messages between the page and the worker's Python (the comm manager of ./comms.py):
// what Python is handed of a page's comm message, and buffers as the host receives them.

import type { JSONObject, Message } from "../../protocol";

/** The shell messages the worker hands to Python's comm manager. */
export const COMM_MESSAGES = new Set(["comm_open", "comm_msg", "comm_close"]);

/** What Python's comm manager gets of a page's comm message (its buffers go beside it). */
export function commRequest(msg: Message): JSONObject {
  return { header: msg.header, parent_header: msg.parent_header, metadata: msg.metadata, content: msg.content } as unknown as JSONObject;
}

/** Each view's bytes as an ArrayBuffer of their own: a view into a larger buffer (Pyodide's
 * memory, or a slice) is copied, so the page gets exactly the buffer Python sent. */
export function ownBuffers(views: Uint8Array[]): ArrayBuffer[] {
  return views.map((view) =>
    view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? (view.buffer as ArrayBuffer) : (view.slice().buffer as ArrayBuffer),
  );
}

/** The one line a comm message Python could not take becomes (its error's last line). */
export function refusal(msgType: string, error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((line) => line.trim()).filter(Boolean);
  return `${msgType} refused: ${lines.pop() ?? "unknown error"}\n`;
}

/** Buffers as base64 strings (the Node.js host's JSON lines). */
export function toBase64(buffers: ArrayBuffer[]): string[] {
  return buffers.map((buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let at = 0; at < bytes.length; at += 0x8000) text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
    return btoa(text);
  });
}

/** Buffers from the Node.js host's JSON lines: base64 strings (anything else: none; a string
 * that is not base64 throws). */
export function fromBase64(buffers: unknown): ArrayBuffer[] {
  if (!Array.isArray(buffers)) return [];
  return buffers
    .filter((item): item is string => typeof item === "string")
    .map((item) => {
      const text = atob(item);
      const bytes = new Uint8Array(text.length);
      for (let at = 0; at < text.length; at++) bytes[at] = text.charCodeAt(at);
      return bytes.buffer;
    });
}
