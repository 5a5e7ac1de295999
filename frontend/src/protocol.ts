// The Jupyter messaging protocol over a kernel WebSocket: the message model and its two
// framings, v1.kernel.websocket.jupyter.org (binary) and the legacy JSON text frames.

export type Channel = "shell" | "iopub" | "stdin" | "control";
export type JSONObject = { [key: string]: unknown };

export interface Header {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface Message {
  channel: Channel;
  header: Header;
  parent_header: Partial<Header>;
  metadata: JSONObject;
  content: JSONObject;
  buffers: ArrayBuffer[];
}

export const V1_PROTOCOL = "v1.kernel.websocket.jupyter.org";

export function uuid(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
  });
}

export function newMessage(
  channel: Channel,
  msgType: string,
  content: JSONObject,
  session: string,
  parent: Partial<Header> = {},
): Message {
  return {
    channel,
    header: {
      msg_id: uuid(),
      msg_type: msgType,
      session,
      username: "livecells",
      date: new Date().toISOString(),
      version: "5.3",
    },
    parent_header: parent,
    metadata: {},
    content,
    buffers: [],
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** v1 framing: uint64 LE offset count, the offsets, then channel, header, parent header,
 * metadata, content (JSON) and the buffers. */
export function encodeV1(msg: Message): ArrayBuffer {
  const parts: Uint8Array[] = [
    encoder.encode(msg.channel),
    encoder.encode(JSON.stringify(msg.header)),
    encoder.encode(JSON.stringify(msg.parent_header)),
    encoder.encode(JSON.stringify(msg.metadata)),
    encoder.encode(JSON.stringify(msg.content)),
    ...msg.buffers.map((b) => new Uint8Array(b)),
  ];
  const count = parts.length + 1;
  const headerSize = 8 * (count + 1);
  let total = headerSize;
  for (const part of parts) total += part.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(count), true);
  let offset = headerSize;
  parts.forEach((part, i) => {
    view.setBigUint64(8 * (i + 1), BigInt(offset), true);
    out.set(part, offset);
    offset += part.byteLength;
  });
  view.setBigUint64(8 * count, BigInt(offset), true);
  return out.buffer;
}

export function decodeV1(data: ArrayBuffer): Message {
  const view = new DataView(data);
  if (data.byteLength < 8) throw new Error("malformed v1 message: too short");
  const count = Number(view.getBigUint64(0, true));
  if (count < 6 || 8 * (count + 1) > data.byteLength) throw new Error("malformed v1 message");
  const offsets: number[] = [];
  for (let i = 1; i <= count; i++) offsets.push(Number(view.getBigUint64(8 * i, true)));
  const part = (i: number) => new Uint8Array(data, offsets[i], offsets[i + 1] - offsets[i]);
  const json = (i: number) => JSON.parse(decoder.decode(part(i)) || "{}");
  const buffers: ArrayBuffer[] = [];
  for (let i = 5; i < count - 1; i++) buffers.push(data.slice(offsets[i], offsets[i + 1]));
  return {
    channel: decoder.decode(part(0)) as Channel,
    header: json(1),
    parent_header: json(2),
    metadata: json(3),
    content: json(4),
    buffers,
  };
}

export function encodeJSON(msg: Message): string {
  return JSON.stringify({
    channel: msg.channel,
    header: msg.header,
    parent_header: msg.parent_header,
    metadata: msg.metadata,
    content: msg.content,
    buffers: [],
  });
}

export function decodeJSON(data: string): Message {
  const raw = JSON.parse(data);
  return {
    channel: raw.channel,
    header: raw.header,
    parent_header: raw.parent_header ?? {},
    metadata: raw.metadata ?? {},
    content: raw.content ?? {},
    buffers: [],
  };
}

/** Legacy binary frames (no subprotocol, a message with buffers): uint32 BE count, uint32 BE
 * offsets, the JSON message, then the buffers. */
export function decodeLegacyBinary(data: ArrayBuffer): Message {
  const view = new DataView(data);
  const count = view.getUint32(0);
  const offsets: number[] = [];
  for (let i = 1; i <= count; i++) offsets.push(view.getUint32(4 * i));
  offsets.push(data.byteLength);
  const msg = decodeJSON(decoder.decode(new Uint8Array(data, offsets[0], offsets[1] - offsets[0])));
  for (let i = 1; i < count; i++) msg.buffers.push(data.slice(offsets[i], offsets[i + 1]));
  return msg;
}
