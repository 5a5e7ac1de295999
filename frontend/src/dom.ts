// Plain DOM, built by small functions (no framework).

type Child = Node | string | null | false;

/** `h("label", {className: "x"}, "text", child)`: an element with properties and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string | boolean | number>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key.startsWith("aria-") || key.startsWith("data-") || key === "role" || key === "for") element.setAttribute(key, String(value));
    else (element as unknown as Record<string, unknown>)[key] = value;
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

export function button(className: string, label: string, aria: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.setAttribute("aria-label", aria);
  element.title = aria;
  element.addEventListener("click", onClick);
  return element;
}
