// The pure parts of Jupyter widgets: what a saved widget state (a notebook's
// `metadata.widgets["application/vnd.jupyter.widget-state+json"]`), a widget view output
// (`application/vnd.jupyter.widget-view+json`) and a widget comm message must look like. They
// come from files and kernels anyone may have written, so each is checked here before the
// widget manager sees it, and a bad one becomes a one-line reason instead of an exception deep
// inside the manager.

export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
export const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";
/** The comm target of ipywidgets' models (protocol 2). */
export const WIDGET_TARGET = "jupyter.widget";
/** ipywidgets' control comm (a frontend asking for every model's state at once). */
export const CONTROL_TARGET = "jupyter.widget.control";
/** At most this many models in a saved state (a notebook with more is not a reader's). */
export const MAX_MODELS = 5000;

export interface SavedBuffer {
  path: (string | number)[];
  data: string;
  encoding: "base64" | "hex";
}

export interface SavedModel {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
  buffers?: SavedBuffer[];
}

/** A saved state as the widget manager's `set_state` takes it. */
export interface SavedState {
  version_major: number;
  version_minor: number;
  state: Record<string, SavedModel>;
}

const MODEL_ID = /^[\w.-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A model id as a comm id or `model_id` may carry it: short, no markup. */
export function isModelId(value: unknown): value is string {
  return typeof value === "string" && MODEL_ID.test(value);
}

/** The model id of a widget view output, or the reason it has none. */
export function viewModelId(data: unknown): { modelId: string } | { error: string } {
  if (!isObject(data)) return { error: "a widget view output that is not an object" };
  if (typeof data.version_major === "number" && data.version_major !== 2) {
    return { error: `a widget view of protocol version ${data.version_major} (this page speaks version 2: ipywidgets 8)` };
  }
  if (!isModelId(data.model_id)) return { error: "a widget view output without a valid model_id" };
  return { modelId: data.model_id };
}

function checkBuffer(raw: unknown): SavedBuffer | string {
  if (!isObject(raw)) return "a buffer that is not an object";
  const { path, data, encoding } = raw;
  if (!Array.isArray(path) || !path.every((key) => typeof key === "string" || typeof key === "number")) {
    return "a buffer without a valid path";
  }
  if (encoding !== "base64" && encoding !== "hex") return `a buffer of unknown encoding ${JSON.stringify(encoding)}`;
  if (typeof data !== "string" || !(encoding === "base64" ? BASE64 : HEX).test(data)) return `a buffer whose data is not ${encoding}`;
  return { path: path as (string | number)[], data, encoding };
}

function checkModel(raw: unknown): SavedModel | string {
  if (!isObject(raw)) return "not an object";
  for (const key of ["model_name", "model_module", "model_module_version"] as const) {
    if (typeof raw[key] !== "string") return `no ${key}`;
  }
  if (!isObject(raw.state)) return "no state";
  const model: SavedModel = {
    model_name: raw.model_name as string,
    model_module: raw.model_module as string,
    model_module_version: raw.model_module_version as string,
    state: raw.state,
  };
  if (raw.buffers !== undefined) {
    if (!Array.isArray(raw.buffers)) return "buffers that are not a list";
    const buffers: SavedBuffer[] = [];
    for (const item of raw.buffers) {
      const buffer = checkBuffer(item);
      if (typeof buffer === "string") return buffer;
      buffers.push(buffer);
    }
    model.buffers = buffers;
  }
  return model;
}

/**
 * A notebook's saved widget state, checked: the models that are well formed, and one line per
 * model that is not (it is left out; a view of it then says the model is missing). A state that
 * is not one at all (wrong shape, protocol version, too many models) is an error.
 */
export function parseSavedState(raw: unknown): { state: SavedState; problems: string[] } | { error: string } {
  if (!isObject(raw)) return { error: "the saved widget state is not an object" };
  if (raw.version_major !== 2) {
    return { error: `the saved widget state has version ${JSON.stringify(raw.version_major)} (this page reads version 2: ipywidgets 8)` };
  }
  if (!isObject(raw.state)) return { error: "the saved widget state has no models" };
  const entries = Object.entries(raw.state);
  if (entries.length > MAX_MODELS) return { error: `the saved widget state has ${entries.length} models (at most ${MAX_MODELS})` };
  const state: Record<string, SavedModel> = {};
  const problems: string[] = [];
  for (const [id, value] of entries) {
    if (!isModelId(id)) {
      problems.push(`saved widget model ${JSON.stringify(String(id).slice(0, 40))}: not a valid model id`);
      continue;
    }
    const model = checkModel(value);
    if (typeof model === "string") problems.push(`saved widget model ${id}: ${model}`);
    else state[id] = model;
  }
  const minor = typeof raw.version_minor === "number" ? raw.version_minor : 0;
  return { state: { version_major: 2, version_minor: minor, state }, problems };
}

/** Read the saved state a page carries in `<script type="application/vnd.jupyter.widget-state+json">`. */
export function readSavedState(text: string): { state: SavedState; problems: string[] } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: "the saved widget state is not JSON" };
  }
  return parseSavedState(raw);
}

/** What a widget comm message must carry before the manager sees it: the comm id, and for a
 * comm_open the target and, for a widget model, the state naming its class. */
export function checkCommMessage(type: string, content: Record<string, unknown>): string | null {
  if (!isModelId(content.comm_id)) return `a ${type} without a valid comm_id`;
  if (type === "comm_open") {
    if (typeof content.target_name !== "string") return "a comm_open without a target_name";
    if (content.target_name === WIDGET_TARGET) {
      const data = content.data;
      const state = isObject(data) ? data.state : undefined;
      if (!isObject(state) || typeof state._model_name !== "string" || typeof state._model_module !== "string") {
        return `a widget comm_open (${content.comm_id}) without a model state`;
      }
    }
  }
  if (type === "comm_msg" && !isObject(content.data)) return `a comm_msg for ${content.comm_id} without data`;
  return null;
}

/** Buffers carried by a widget message: ArrayBuffers, as the manager takes them (a kernel's
 * `buffer_paths` beyond the buffers that came are an error, not a silent hole). */
export function checkBuffers(data: unknown, buffers: ArrayBuffer[]): string | null {
  if (!isObject(data) || data.buffer_paths === undefined) return null;
  const paths = data.buffer_paths;
  if (!Array.isArray(paths)) return "buffer_paths that are not a list";
  if (paths.length > buffers.length) return `${paths.length} buffer paths but ${buffers.length} buffers`;
  return null;
}
